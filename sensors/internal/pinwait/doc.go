// Package pinwait waits for a data-ready or interrupt line, the way every
// sensor driver that has one does.
package pinwait
