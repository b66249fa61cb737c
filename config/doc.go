// Package config reads medagent's one YAML configuration file.
//
// Decoding is strict: a malformed file, an unknown key, a value of the wrong
// type or out of range is refused with an error naming the file, the line and
// the key (for example "medagent.yaml:12: mqtt.inflight: must be 1..1024, got 0").
// Every key and its default is documented in configs/medagent.example.yaml;
// a test keeps that file and Default() in step.
package config
