package config

// Realtime configures the acquire role's real-time sampling path: the
// sampling loop of every sensor runs on its own
// OS thread at a SCHED_FIFO priority, and the process's memory is locked.
// Without the rights (root, or LimitRTPRIO= and LimitMEMLOCK=infinity in
// the unit), the agent says so in its log and in an event on
// events/realtime, and samples at normal priority.
type Realtime struct {
	// Priority is the SCHED_FIFO priority, 1..99; 0 samples at normal
	// priority.
	Priority int `yaml:"priority"`
	// LockMemory locks the process's memory (mlockall) so that no page
	// fault delays a sample.
	LockMemory bool `yaml:"lock_memory"`
}
