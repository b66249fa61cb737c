// Package jsonkeys checks the object keys of outside JSON before it is
// decoded, so that every parser of the same bytes sees the same document.
//
// encoding/json keeps the last of duplicate keys and matches struct
// fields case-insensitively ("DEVICE_TYPE" fills device_type); other
// parsers (a back end's, an auditor's, a human reading the file) keep the
// first, or treat the key as unknown. A signed document that means one
// thing to the device and another to its reader is refused here: no key
// twice in one object, no two keys that differ only in case, no key that
// is a known field name in another case, and no nesting deeper than a
// bound (the token walk below is iterative; the bound keeps later
// recursive decoders cheap). Callers: the Mender artifact reader
// (update/artifact) and the command envelope (trust/command).
package jsonkeys
