// Package durable writes files so that a crash at any instant leaves either
// the old or the new content: temp file, fsync, rename, fsync directory.
package durable
