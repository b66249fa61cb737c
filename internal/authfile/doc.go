// Package authfile stores small state files that only their owner can have
// written: the update journal, the version floor, the audit log's head.
//
// A file is a JSON envelope {"format", "version", "mac", "body"} whose mac
// is HMAC-SHA256 with a device key over the format name, the version and
// the canonical (compact, as encoding/json writes it) body. Open refuses a
// file that is not a regular file owned by this process's user, or that its
// group or others may write, or that lies in a directory others may write
// (its owner may replace it, which is the point); Unmarshal refuses a bad
// mac, another format or version, unknown fields and trailing data. A
// caller treats any refusal as "no trustworthy state" and says so; it never
// acts on the content.
//
// Files are written durably (temp file, fsync, rename, fsync of the
// directory), mode 0600. The key comes from the caller (the agent derives
// one per purpose from its TPM-sealed device key, see DeriveKey).
package authfile
