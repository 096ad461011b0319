package model

import (
	"fmt"
	"strings"
	"testing"
)

// aliasBomb is a service whose metadata nests depth levels of nine aliases
// to the level below: a few hundred bytes that expand to 9^depth values.
func aliasBomb(depth int) string {
	var b strings.Builder
	b.WriteString("discovery: zookeeper\nport: 80\nchecks: {interval: 1}\nmetadata:\n")
	b.WriteString(`  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for i := 1; i <= depth; i++ {
		ref := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "  a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(ref+",", 9), ","))
	}
	return b.String()
}

// BenchmarkLoadAliasBomb loads alias bombs of growing depth. Depth 3
// (7,381 values) is within the cap and accepted; from depth 4 on, the bomb
// is refused before it expands, and time and memory per load stay flat.
func BenchmarkLoadAliasBomb(b *testing.B) {
	for _, depth := range []int{3, 4, 5, 6, 8} {
		data := []byte(aliasBomb(depth))
		b.Run(fmt.Sprintf("depth=%d,bytes=%d", depth, len(data)), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				Load(nil, []File{{Path: "discovery/zookeeper.yaml", Data: []byte(zkYAML)}, {Path: "services/bomb.yaml", Data: data}})
			}
		})
	}
}
