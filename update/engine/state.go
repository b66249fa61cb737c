package engine

// State is a state of the update state machine, as stored in the journal.
type State string

// The states, in the order of a successful update.
const (
	StateIdle       State = "idle"
	StateDownload   State = "download"    // artifact opened, header and signature verified
	StateInstall    State = "install"     // payload streaming into the inactive slot
	StateVerify     State = "verify"      // written payload checked against the artifact
	StateArm        State = "arm"         // boot environment switched to the new slot for a trial boot
	StateReboot     State = "reboot"      // waiting for (clinical lock) or doing the reboot
	StateVerifyBoot State = "verify-boot" // after the reboot: running slot and flags checked
	StateHealth     State = "health"      // health checks on the new slot
	StateCommit     State = "commit"      // upgrade_available cleared, provides stored
	StateCommitted  State = "committed"   // terminal: the new slot is the good one
	StateRollback   State = "rollback"    // boot environment back to the old slot
	// StateDisarm: the reboot into the new slot never happened (requested
	// and asked again, see AwaitReboot): boot environment back to the
	// running slot, then failed.
	StateDisarm       State = "disarm"
	StateRollbackBoot State = "rollback-reboot"
	StateRolledBack   State = "rolled-back" // terminal: back on the old slot
	StateFailed       State = "failed"      // terminal: failed before the trial boot was armed, or gave up

	// StateRebootPending is reported by Status (never journaled) while the
	// clinical-use lock or the maintenance window holds a reboot back.
	StateRebootPending State = "reboot-pending"
)

// Terminal reports whether an update in state s is over.
func (s State) Terminal() bool {
	switch s {
	case StateIdle, StateCommitted, StateRolledBack, StateFailed, "":
		return true
	}
	return false
}

// preArm reports whether the boot environment may not yet point to the new slot.
func (s State) preArm() bool {
	switch s {
	case StateDownload, StateInstall, StateVerify:
		return true
	}
	return false
}

// scriptState is the Mender state-script name of an engine state.
func (s State) scriptState() string {
	switch s {
	case StateDownload:
		return "Download"
	case StateInstall, StateVerify, StateArm:
		return "ArtifactInstall"
	case StateReboot, StateVerifyBoot:
		return "ArtifactReboot"
	case StateHealth, StateCommit:
		return "ArtifactCommit"
	case StateRollback, StateDisarm:
		return "ArtifactRollback"
	case StateRollbackBoot:
		return "ArtifactRollbackReboot"
	}
	return "ArtifactFailure"
}
