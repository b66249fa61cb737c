// Package mender is medagent's client of the open-source Mender server's
// device API (OpenAPI files in mendertest/openapi): authentication,
// inventory and deployments. It runs in the uplink role, is off unless
// mender.server_url is set, and trusts the server for scheduling only,
// never for integrity.
//
// # Authentication
//
// The client posts an auth request ({"id_data", "pubkey", "tenant_token"})
// to /api/devices/v1/authentication/auth_requests, signed in the
// X-MEN-Signature header by the device key (an RSA or ECDSA P-256
// crypto.Signer: a key file or the TPM-held identity): base64 of the
// PKCS #1 v1.5 or ASN.1 ECDSA signature of SHA-256(body). Until an
// operator accepts the device the server answers 401; the client retries
// with capped exponential backoff and full jitter and says so in Status
// ("pending acceptance"). The JWT it gets lives in memory only; any 401 on
// a later call drops it and authenticates again, once per call.
//
// # Inventory
//
// Device.Inventory's attributes (device type, artifact name, provides,
// kernel, board, sensors present, agent version...) are PATCHed to
// /api/devices/v1/inventory/device/attributes at start, when they change
// (checked at every poll) and every InventoryInterval.
//
// # Deployments
//
// Every PollInterval the client asks for the next deployment (each wait
// drawn anew from [3/4, 5/4) of the interval, as are the inventory's, so a
// fleet that started together does not poll in lockstep): POST
// .../deployments/next with the device's provides, falling back to GET
// with artifact_name and device_type when the server answers 404 (older
// servers; the published spec has only the GET). 204 and 409 mean nothing
// to do; 429 is honoured with its Retry-After (seconds or an HTTP date; a
// floor, the wait is drawn from [1, 3/2) of it). A deployment of the
// artifact already installed is reported already-installed. Otherwise the
// client reports downloading and fetches the artifact into the hand-off's
// work directory, resuming with a Range request after a dropped connection
// and asking for the deployment again when the link expired (403, or past
// its expire time). The server is never trusted for integrity: the
// artifact is verified by medagent's own verifier with the device's update
// keys — in the uplink when the keys it was given are all there are (a
// bad signature then fails the deployment at once, with the reason in the
// deployment log, and nothing is handed over), and in any case again by
// acquire, with update.keys and the keyring's keys, before it installs.
// The client reports installing and hands the file to acquire through the
// hand-off (Installer). Acquire's phases become the deployment's statuses:
// reboot-pending (the clinical-use lock holds) → pause_before_rebooting,
// rebooting → rebooting, success → success, failure → failure with the
// deployment log uploaded. The deployment in progress is kept in
// Options.StateDir (written durably), so that the client resumes it after
// the reboot or a restart of the uplink.
//
// # Extra behaviour the spec does not show
//
// From the server's source (see mendertest/openapi/deployments/next_post.yaml):
// the POST form of next; 429 + Retry-After on any call; 401 on any call
// when the JWT expired; 403 from the storage link when it expired. The
// auth response's JWT is accepted as a JSON string (what the spec says) or
// as the raw token (what the server sends, Content-Type application/jwt).
package mender
