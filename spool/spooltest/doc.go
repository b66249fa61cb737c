// Package spooltest helps test what happens to a spool when the file system
// under it fills: RunInSmallFS runs a test on a small tmpfs of its own (in
// a private mount namespace), Fill takes the space that is left.
//
// Used by the spool's own tests and by the end-to-end tests that run the
// agent on a full disk.
package spooltest
