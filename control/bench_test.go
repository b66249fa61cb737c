package control

import (
	"context"
	"testing"
)

// BenchmarkStatusCall measures one status round trip over the socket
// (connect, peer check, request, answer): what every CLI command costs.
func BenchmarkStatusCall(b *testing.B) {
	s := startServer(b, b.TempDir(), fakeProvider(), nil, -1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var st Status
		if err := Call(ctx, s.Path(), Request{Cmd: CmdStatus}, &st); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/call")
}
