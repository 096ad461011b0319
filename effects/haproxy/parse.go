package haproxy

import (
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

// Info is the answer to `show info` (of the worker that owns the socket).
type Info struct {
	Name     string        // "HAProxy"
	Version  string        // e.g. "2.6.12-1+deb12u4"
	Pid      int           // the worker's pid (the pid file holds the master's)
	Uptime   time.Duration // the worker's uptime (Uptime_sec)
	Stopping bool          // the worker is soft-stopping (an old worker)
	// CurrConns is the number of connections the worker holds now.
	CurrConns int
	// Fields holds every "Key: value" line by key, e.g. Fields["Nbthread"].
	Fields map[string]string
}

// parseInfo parses `show info`: "Key: value" lines.
func parseInfo(answer string) (Info, error) {
	info := Info{Fields: map[string]string{}}
	for _, line := range strings.Split(answer, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		info.Fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	info.Name = info.Fields["Name"]
	info.Version = info.Fields["Version"]
	pid, err := strconv.Atoi(info.Fields["Pid"])
	if err != nil || info.Version == "" {
		return Info{}, errors.New("not a `show info` answer: no Version or Pid")
	}
	info.Pid = pid
	if s, err := strconv.Atoi(info.Fields["Uptime_sec"]); err == nil {
		info.Uptime = time.Duration(s) * time.Second
	}
	info.Stopping = info.Fields["Stopping"] == "1"
	info.CurrConns, _ = strconv.Atoi(info.Fields["CurrConns"])
	return info, nil
}

// OpState is srv_op_state of `show servers state`: what the health checks
// make of the server.
type OpState int

// The operational states.
const (
	OpStopped  OpState = 0 // down
	OpStarting OpState = 1 // warming up (slowstart)
	OpRunning  OpState = 2 // fully up
	OpStopping OpState = 3 // up but soft-stopping (e.g. a 404 check)
)

// AdminState is srv_admin_state of `show servers state`: a bit mask
// (management.txt, "show servers state").
type AdminState int

// The bits of AdminState.
const (
	AdminFMaint AdminState = 0x01 // forced into maintenance (disable server, state maint)
	AdminIMaint AdminState = 0x02 // maintenance inherited from a tracked server
	AdminCMaint AdminState = 0x04 // `disabled` in the config; alone it is not maintenance
	AdminFDrain AdminState = 0x08 // forced into drain (state drain)
	AdminIDrain AdminState = 0x10 // drain inherited from a tracked server
	AdminRMaint AdminState = 0x20 // maintenance after an address resolution failure
	AdminHMaint AdminState = 0x40 // FQDN set from the socket
)

// Maint reports whether the server is in maintenance (HAProxy's
// SRV_ADMF_MAINT mask: FMAINT, IMAINT or RMAINT). CMAINT alone does not
// count: a `disabled` server set to ready keeps CMAINT and takes traffic.
func (a AdminState) Maint() bool { return a&(AdminFMaint|AdminIMaint|AdminRMaint) != 0 }

// Drain reports whether the server drains (FDRAIN or IDRAIN).
func (a AdminState) Drain() bool { return a&(AdminFDrain|AdminIDrain) != 0 }

// State is maint, drain or ready, in that order of precedence.
func (a AdminState) State() model.ServerState {
	switch {
	case a.Maint():
		return model.ServerMaint
	case a.Drain():
		return model.ServerDrain
	}
	return model.ServerReady
}

// ServersStateRow is one row of `show servers state`.
type ServersStateRow struct {
	BackendID int
	Backend   string
	ID        int
	Name      string
	// Addr is the server's IP address; "" when it has none (HAProxy shows
	// "-", e.g. an unresolved FQDN).
	Addr string
	Port int
	// FQDN is the server's host name, "" when it has none.
	FQDN       string
	OpState    OpState
	AdminState AdminState
	// UWeight is the current (user-set) weight, IWeight the initial one.
	UWeight, IWeight int
	// State is derived from AdminState: maint, drain or ready.
	State model.ServerState

	header *[]string // column names, shared by the rows of one answer
	line   string    // the row
}

// Field returns a column by its header name, e.g. Field("srv_check_status"),
// or "" when the answer has no such column.
func (s ServersStateRow) Field(name string) string {
	if s.header == nil {
		return ""
	}
	for k, f := range strings.Fields(s.line) {
		if k < len(*s.header) && (*s.header)[k] == name {
			return f
		}
	}
	return ""
}

// The columns parseServersState reads; srv_fqdn may be missing.
const (
	colBeID = iota
	colBeName
	colSrvID
	colSrvName
	colSrvAddr
	colOpState
	colAdminState
	colUWeight
	colIWeight
	colSrvPort
	colSrvFQDN
	nColumns
)

var serverStateColumns = [nColumns]string{"be_id", "be_name", "srv_id", "srv_name", "srv_addr", "srv_op_state",
	"srv_admin_state", "srv_uweight", "srv_iweight", "srv_port", "srv_fqdn"}

// parseServersState parses `show servers state`: a format version line
// (format.Version, "1" in every supported release), a "# name name ..."
// header, then one space-separated row per server. Columns are found by
// their names, so the order of format.Columns is not relied upon. An answer
// covers every server of the process, tens of thousands on a large node,
// and the writer asks for it before every plan: the header is indexed once,
// and a row is read in place, without allocating.
func parseServersState(answer string, format haproxyapi.ServersStateFormat) ([]ServersStateRow, error) {
	answer = strings.TrimLeft(answer, " \t\r\n")
	if answer == "" {
		return nil, errors.New("empty answer")
	}
	first, rest, _ := strings.Cut(answer, "\n")
	if v := strings.TrimSpace(first); v != format.Version {
		return nil, fmt.Errorf("format version %q, want %q", v, format.Version)
	}
	var header *[]string
	var which []int // column index → one of the col constants, or -1
	out := make([]ServersStateRow, 0, strings.Count(rest, "\n"))
	for n := 2; rest != ""; n++ {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line[0] == '#' {
			if header == nil {
				names := strings.Fields(line[1:])
				header, which = &names, make([]int, len(names))
				for k, name := range names {
					which[k] = slices.Index(serverStateColumns[:], name)
				}
				for c, need := range serverStateColumns[:colSrvFQDN] {
					if !slices.Contains(which, c) {
						return nil, fmt.Errorf("header has no column %s", need)
					}
				}
			}
			continue
		}
		if header == nil {
			return nil, errors.New("row before the # header")
		}
		var v [nColumns]string
		v[colSrvFQDN] = "-"
		k := 0
		for f := range strings.FieldsSeq(line) {
			if k < len(which) && which[k] >= 0 {
				v[which[k]] = f
			}
			k++
		}
		if k != len(which) {
			return nil, fmt.Errorf("line %d has %d fields, the header %d", n, k, len(which))
		}
		s := ServersStateRow{Backend: v[colBeName], Name: v[colSrvName], header: header, line: line}
		var bad []string
		var op, admin int
		for _, x := range [...]struct {
			c   int
			dst *int
		}{{colBeID, &s.BackendID}, {colSrvID, &s.ID}, {colSrvPort, &s.Port}, {colOpState, &op},
			{colAdminState, &admin}, {colUWeight, &s.UWeight}, {colIWeight, &s.IWeight}} {
			var err error
			if *x.dst, err = strconv.Atoi(v[x.c]); err != nil {
				bad = append(bad, serverStateColumns[x.c])
			}
		}
		if len(bad) > 0 {
			return nil, fmt.Errorf("line %d: %s not a number", n, strings.Join(bad, ", "))
		}
		s.OpState, s.AdminState = OpState(op), AdminState(admin)
		if a := v[colSrvAddr]; a != "-" {
			s.Addr = a
		}
		if q := v[colSrvFQDN]; q != "-" {
			s.FQDN = q
		}
		s.State = s.AdminState.State()
		out = append(out, s)
	}
	if header == nil {
		return nil, errors.New("no # header line")
	}
	return out, nil
}

// StatRow is one row of `show stat`: a frontend, a backend, a server or a
// listener of a proxy.
type StatRow struct {
	Proxy string // pxname
	Name  string // svname: a server's name, or FRONTEND / BACKEND
	// Type is 0 for a frontend, 1 for a backend, 2 for a server, 3 for a
	// listener.
	Type int
	// Status is e.g. "UP", "DOWN", "MAINT", "DRAIN", "no check", "UP 1/3"
	// (rising), "OPEN" (a frontend).
	Status string
	Weight int
	// Addr is "ip:port" ("[::1]:8080" for IPv6) for a server, "" otherwise.
	Addr        string
	Scur        int    // current sessions
	CheckStatus string // e.g. "L4OK", "L7OK", "L4CON"; "" without checks
	// Fields holds every column by its header name, e.g. Fields["stot"].
	Fields map[string]string
}

// IsServer reports whether the row is a server (not FRONTEND or BACKEND).
func (r StatRow) IsServer() bool { return r.Type == 2 }

// parseStat parses `show stat`: CSV with a "# pxname,svname,..." header.
func parseStat(answer string) ([]StatRow, error) {
	body, ok := strings.CutPrefix(strings.TrimLeft(answer, "\n"), "# ")
	if !ok || !strings.HasPrefix(body, "pxname,") {
		return nil, errors.New("no `# pxname,...` header")
	}
	r := csv.NewReader(strings.NewReader(body))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	names := recs[0]
	idx := map[string]int{}
	for k, n := range names {
		if n != "" {
			idx[n] = k
		}
	}
	for _, need := range []string{"pxname", "svname", "status"} {
		if _, ok := idx[need]; !ok {
			return nil, fmt.Errorf("header has no column %s", need)
		}
	}
	out := make([]StatRow, 0, len(recs)-1)
	for n, rec := range recs[1:] {
		if len(rec) < len(names)-1 { // the header ends with a comma
			return nil, fmt.Errorf("row %d has %d fields, the header %d", n+1, len(rec), len(names))
		}
		m := make(map[string]string, len(idx))
		for name, k := range idx {
			if k < len(rec) {
				m[name] = rec[k]
			}
		}
		row := StatRow{
			Proxy:       m["pxname"],
			Name:        m["svname"],
			Status:      m["status"],
			Addr:        m["addr"],
			CheckStatus: m["check_status"],
			Fields:      m,
		}
		row.Type, _ = strconv.Atoi(m["type"])
		row.Weight, _ = strconv.Atoi(m["weight"])
		row.Scur, _ = strconv.Atoi(m["scur"])
		out = append(out, row)
	}
	return out, nil
}
