package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxNodeData is the most bytes of znode data a node may take: DecodeNode
// refuses more, and a service whose metadata would make more is refused by
// Load. It is half of ZooKeeper's default packet limit (jute.maxbuffer,
// 1 MiB), which also carries the path and the request.
const MaxNodeData = 512 << 10

// errNodeTooLarge words a node over MaxNodeData.
func errNodeTooLarge(n int) error {
	return fmt.Errorf("node data of %d bytes is over the limit of %d", n, MaxNodeData)
}

// DecodeNode reads a node's znode data. Both the original's format, where
// peer and metadata are JSON-encoded strings, and plain objects are accepted.
// The node is validated: a bad value is an error, never rendered. Data over
// MaxNodeData bytes is refused unread.
func DecodeNode(data []byte) (Node, error) {
	if len(data) > MaxNodeData {
		return Node{}, errNodeTooLarge(len(data))
	}
	var d nodeDecoder
	p := jsonParser{data: data}
	var f [len(nodeKeys)]rawValue
	var err error
	if p.peek() == 'n' {
		err = p.lit("null") // a node without fields
	} else {
		err = p.fields(nodeKeys[:], f[:])
	}
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return Node{}, fmt.Errorf("not a JSON object: %v", jsonMessage(data, new(wireNode), err))
	}
	return d.node(&f)
}

// jsonMessage is the error encoding/json reports when decoding data into
// v, which our parser rejected with err: users keep seeing its wording.
func jsonMessage(data []byte, v any, err error) error {
	if jerr := json.Unmarshal(data, v); jerr != nil {
		return jerr
	}
	return err
}

// wireNode only names the type in encoding/json's messages ("cannot
// unmarshal array into Go value of type model.wireNode").
type wireNode struct{}

// The keys of a node object and of a peer object, as fields() takes them.
var (
	nodeKeys = [...]string{"host", "ip", "port", "peer", "metadata"}
	peerKeys = [...]string{"name", "ip", "port"}
)

// nodeDecoder turns the values of a node's fields into a Node. Decoding
// many nodes, it allocates less: peers come from chunks of peerChunk,
// metadata strings are shared through intern.
type nodeDecoder struct {
	buf       []byte // scratch space
	peerChunk int
	peers     []Peer
	intern    *internTable
	// metas holds the metadata decoded so far by its JSON (nodes of a
	// service usually share theirs): nodes with the same metadata share
	// one map, which nobody changes. Nil: no sharing.
	metas map[string]map[string]any
}

// Bounds of the metadata a decoder shares: how many, how long.
const (
	maxSharedMetas   = 4096
	maxSharedMetaLen = 1024
)

// node checks and decodes f, the values of nodeKeys.
func (d *nodeDecoder) node(f *[len(nodeKeys)]rawValue) (Node, error) {
	var n Node
	host, err := rawString(f[0], "host")
	if err != nil {
		return n, err
	}
	ip, err := rawString(f[1], "ip")
	if err != nil {
		n.Host = string(host)
		return n, err
	}
	// One string for both.
	both := string(host) + string(ip)
	n.Host, n.IP = both[:len(host)], both[len(host):]
	if n.Port, err = rawPort(f[2], "port", true, 0); err != nil {
		return n, err
	}
	if !f[3].null() {
		if n.Peer, err = d.peer(f[3], &n); err != nil {
			return n, err
		}
	}
	if f[4].null() {
		n.Metadata = map[string]any{}
		return n, n.Validate()
	}
	if n.Metadata, err = d.metadata(f[4]); err != nil {
		return n, err
	}
	return n, n.Validate()
}

// peer decodes the peer of n from v, an object or a string holding one.
func (d *nodeDecoder) peer(v rawValue, n *Node) (*Peer, error) {
	var f [len(peerKeys)]rawValue
	if v.str && canEmbed(v.flags) {
		// Quickly, without unquoting; the slow way below words errors.
		p := jsonParser{data: bytes.TrimSpace(v.chars), embedded: true}
		if p.peek() == '{' && p.fields(peerKeys[:], f[:]) == nil && p.end() == nil {
			if pr, err := d.makePeer(&f, n); err == nil {
				return pr, nil
			}
		}
		f = [len(peerKeys)]rawValue{}
	}
	obj, err := d.objectOrString(v)
	if err == nil {
		p := jsonParser{data: obj}
		if err = p.fields(peerKeys[:], f[:]); err == nil {
			err = p.end()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("peer is not a JSON object")
	}
	return d.makePeer(&f, n)
}

// makePeer checks and decodes f, the values of peerKeys.
func (d *nodeDecoder) makePeer(f *[len(peerKeys)]rawValue, n *Node) (*Peer, error) {
	var p Peer
	// The peer is mostly the node itself: share its strings.
	name, err := rawString(f[0], "name")
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	p.Name = sameString(name, n.Host)
	ip, err := rawString(f[1], "ip")
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	p.IP = sameString(ip, n.IP)
	if p.Port, err = rawPort(f[2], "port", false, DefaultPeerPort); err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	if d.peerChunk == 0 {
		return &p, nil
	}
	if len(d.peers) == cap(d.peers) {
		d.peers = make([]Peer, 0, d.peerChunk)
	}
	d.peers = append(d.peers, p)
	return &d.peers[len(d.peers)-1], nil
}

// metadata decodes v, an object or a string holding one.
func (d *nodeDecoder) metadata(v rawValue) (map[string]any, error) {
	if v.str && canEmbed(v.flags) {
		// Quickly, without unquoting; the slow way below tells errors.
		obj := bytes.TrimSpace(v.chars)
		if string(obj) == "{}" {
			return map[string]any{}, nil
		}
		if m, ok := d.metas[string(obj)]; ok {
			return m, nil
		}
		p := jsonParser{data: obj, embedded: true, intern: d.intern}
		if p.peek() == '{' {
			if m, err := p.object(); err == nil && p.end() == nil {
				if d.metas != nil && len(d.metas) < maxSharedMetas && len(obj) <= maxSharedMetaLen {
					d.metas[string(obj)] = m
				}
				return m, nil
			}
		}
	}
	obj, err := d.objectOrString(v)
	if err == nil {
		if string(obj) == "{}" {
			return map[string]any{}, nil
		}
		p := jsonParser{data: obj, intern: d.intern}
		m, err := p.object()
		if err == nil && p.end() == nil {
			return m, nil
		}
	}
	return map[string]any{}, fmt.Errorf("metadata is not a JSON object")
}

// sameString returns s as a string, like itself if they are equal.
func sameString(s []byte, like string) string {
	if string(s) == like {
		return like
	}
	return string(s)
}

// objectOrString returns the JSON of an object given either directly or as
// a string holding its JSON (the original's encoding), trimmed of spaces;
// the caller still checks that it is one JSON object.
func (d *nodeDecoder) objectOrString(v rawValue) ([]byte, error) {
	r := v.raw
	if v.str {
		d.buf = unquote(d.buf[:0], v.chars)
		r = bytes.TrimSpace(d.buf)
	}
	if len(r) == 0 || r[0] != '{' {
		return nil, errNotObject
	}
	return r, nil
}

var errNotObject = errors.New("not a JSON object")

// rawString decodes v, which must be a string. The result is v's own bytes
// unless they hold escapes or invalid UTF-8.
func rawString(v rawValue, key string) ([]byte, error) {
	if v.null() {
		return nil, fmt.Errorf("no %s", key)
	}
	if !v.str {
		return nil, fmt.Errorf("%s is not a string", key)
	}
	if v.flags == 0 || v.flags == strNonASCII && utf8.Valid(v.chars) {
		return v.chars, nil
	}
	return unquote(nil, v.chars), nil
}

// rawPort decodes v: a number or a digit string, as the original stored
// either (what strconv.Atoi accepts, 1..65535).
func rawPort(v rawValue, key string, required bool, def int) (int, error) {
	if v.null() {
		if required {
			return 0, fmt.Errorf("no %s", key)
		}
		return def, nil
	}
	s := v.raw
	if v.str {
		s = v.chars
		if v.flags&strEscape != 0 {
			var buf [16]byte
			s = unquote(buf[:0], s)
		}
	}
	if p, ok := atoiPort(s); ok {
		return p, nil
	}
	return 0, fmt.Errorf("%s %s is not a port 1..65535", key, clip(string(v.raw)))
}

// atoiPort is strconv.Atoi(string(s)) restricted to 1..65535.
func atoiPort(s []byte) (int, bool) {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	p := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		if p = p*10 + int(c-'0'); p > 65535 {
			p = 65536 // stays out of range, cannot overflow
		}
	}
	return p, p >= 1 && p <= 65535
}

// nodeAt decodes the node at p.pos: nerr tells why the node is bad, err
// that p's JSON is.
func (d *nodeDecoder) nodeAt(p *jsonParser) (n Node, nerr, err error) {
	if p.peek() != '{' {
		start := p.pos
		if err := p.skip(); err != nil {
			return Node{}, nil, err
		}
		n, nerr := DecodeNode(p.data[start:p.pos]) // for its messages
		return n, nerr, nil
	}
	var f [len(nodeKeys)]rawValue
	start := p.pos
	if err := p.fields(nodeKeys[:], f[:]); err != nil {
		return Node{}, nil, err
	}
	if size := p.pos - start; size > MaxNodeData {
		return Node{}, errNodeTooLarge(size), nil
	}
	n, nerr = d.node(&f)
	return n, nerr, nil
}
