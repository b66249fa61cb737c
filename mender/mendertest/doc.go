// Package mendertest is a Mender server for tests and benches, built from
// the device API's OpenAPI files (openapi/, copied from the Mender server
// with stand-ins for the shared files the copy does not carry): it serves
// authentication, inventory and deployments for many devices, and checks
// every request it gets, and every response it sends, against the spec
// with github.com/getkin/kin-openapi. What the spec does not show but the
// real server does (POST next, 429 + Retry-After, 401 on an expired JWT,
// 403 from an expired storage link) is served where a test asks for it
// and checked against the README's description (openapi/deployments/
// next_post.yaml for POST next). Every departure is recorded in
// Violations, which a test must find empty.
//
// The artifact storage (the pre-signed link of a deployment) is not part
// of the device API; it is served on /storage/ with Range support, link
// expiry and an optional dropped connection.
package mendertest
