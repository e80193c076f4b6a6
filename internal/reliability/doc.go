// Package reliability holds the project's storms: scenarios that drive the
// real code (the engine, the intake, the service and action binaries)
// against simulators that misbehave or input that is hostile, and check
// afterwards that nothing was lost, doubled or left behind. Its tests run
// short versions (`go test ./internal/reliability/...`); `go run ./bench
// -soak 10m` runs the storms for longer through the exported functions.
//
// Every scenario is bounded in count and in time, talks only to loopback,
// and uses distinctive secrets so that ScanSecrets can prove none of them
// reached a log, a comment or an output.
package reliability
