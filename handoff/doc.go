// Package handoff is the one way from the uplink role to the acquire role:
// signed commands and downloaded update artifacts that the network-facing
// uplink received, handed to acquire, which trusts none of it and verifies
// everything again with its own keys. Acquire's answer (the state of each
// item) goes back the other way, in a directory only acquire writes.
//
//	uplink (Producer) ──▶ Dir/in/<id>/ ──▶ acquire (Consumer)
//	uplink (Producer) ◀── StateDir/<id>.json ◀── acquire (Consumer)
//
// # Files
//
// On a device Dir is /var/lib/medagent/handoff (owner medagent-up, group
// medagent-acq, 2750) and StateDir is /var/lib/medagent/shared/handoff
// (owner medagent-acq, group medagent, 2750): each side can read what the
// other writes and write nothing the other trusts.
//
//	Dir/in/<id>/item.json          metadata (Meta), at most 4 KiB
//	Dir/in/<id>/command.json       kind "command": the signed envelope, as received (<= 64 KiB)
//	Dir/in/<id>/artifact.mender    kind "artifact": the artifact (<= MaxArtifactBytes, 1 GiB)
//	Dir/tmp/<id>/                  an item being written; removed when the producer starts
//	Dir/work/                      producers' files in progress (resumable downloads)
//	Dir/uplink.status              the uplink's broker state (UplinkStatus)
//	StateDir/<id>.json             acquire's state of item <id> (State)
//	StateDir/running.provides      the running software's provides (Running), for the Mender client
//
// Ids are 1-64 of A-Z a-z 0-9 . _ - and sort in submission order. Files are
// 0640, directories 0750 (the other role reads through the group).
//
// item.json (unknown fields refused):
//
//	{"format": 1, "id": "...", "kind": "command" | "artifact", "size": N,
//	 "created_at": "RFC 3339",
//	 "source": "https://...",          artifact: where it came from
//	 "digest": "sha256:<hex>",         artifact: the digest the requester named
//	 "command": "<id>",                artifact: the command item (a signed update) that asked for it
//	 "deployment": "...",              or the fleet deployment that asked for it
//	 "error": "..."}                   artifact: the producer could not get it (no file then)
//
// <id>.json: {"format": 1, "id", "kind", "phase", "reason", "name", "nonce",
// "fetch": {"url", "digest"}, "command", "artifact", "updated"}.
//
// # Writing an item (Submit)
//
// The producer writes the item under tmp/, fsyncs each file and the
// directory, renames it into in/ and fsyncs in/: the consumer sees a whole
// item or none. An artifact prepared under WorkDir is moved in by rename
// (no copy of a large file). Once an item's state is final (success or
// failure) the producer removes it; acquire prunes a final state whose
// item is gone after Retention (24 h).
//
// # Phases (State.Phase)
//
//	queued          in the hand-off, not yet seen (reported by State only)
//	received        read, shape sound
//	verifying       signature checks under way
//	fetch           a verified signed update command asks the producer to
//	                download State.Fetch.URL (digest State.Fetch.Digest) and
//	                submit it as an artifact item naming this command item
//	installing      artifact streaming into the inactive slot
//	reboot-pending  installed; the reboot waits for the clinical-use lock (reason)
//	rebooting       trial boot requested; the agent's health checks decide
//	success         done (command run, or update committed)
//	failure         refused or failed; reason says why
//
// # Trust and limits
//
// The consumer reads the hand-off through an os.Root (no symbolic link
// leads out of it), opens files without blocking (a FIFO is refused, not
// waited on), and takes only directories of exactly the files their kind
// names, within the size limits, whose item.json decodes strictly and
// names the directory. A refused item gets state failure with the reason;
// nothing in an item can stop the consumer. At most MaxItems items are
// under way and MaxStates states kept; beyond that new items wait (Full).
// What an item claims is never authority: a command's signature, device,
// expiry and nonce are verified by acquire with its own keyring and nonce
// store; an artifact's signature with acquire's update keys, and an
// artifact that serves a command must have the digest the signed command
// named (taken from acquire's own state, not from item.json).
//
// # API for producers (stable; the uplink's signed commands and the fleet
// client use it)
//
//	p, err := handoff.OpenProducer(handoff.Options{Dir: ..., StateDir: ...})
//	go p.Run(ctx)                        // removes items acquire finished
//	id, err := p.Submit(ctx, handoff.Item{Kind: handoff.KindArtifact,
//	        File: filepath.Join(p.WorkDir(), "dl"), Source: url,
//	        Digest: "sha256:...", Deployment: "deployment-42"})
//	st, err := p.State(id)               // st.Phase, st.Reason
//
// Submit returns ErrFull while MaxItems items wait, an error wrapping
// ErrBadItem for an item that breaks the rules above; State returns
// ErrNotFound for an unknown id.
//
// The consumer side: OpenConsumer, Run (calls Options.Handle for each new
// sound item), Set to record progress, Get and States to resume after a
// restart, UplinkStatus for the health checks.
package handoff
