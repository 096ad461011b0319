package render

import (
	"regexp"
	"strconv"
	"strings"

	"lighthouse/model"
)

// Locate says which part of cfg produced line n (1-based) of text, a
// config rendered from cfg: the directive line a user wrote, with its file,
// line and key, when the line is one; else the item whose section it is
// (a cluster's file for its frontend and backend, the balancer file's
// meta cluster, proxy, stats or global entry). ok is false when the line
// does not exist or belongs to no item (the header comments).
//
// It reads the text as the renderer writes it (a section header at column
// 0, its lines indented), so it maps HAProxy's messages about a line of
// the rendered file (`haproxy -c`: "parsing [haproxy.cfg:42]") back to
// the config.
func Locate(cfg *model.Config, text string, n int) (pos model.Pos, ok bool) {
	if cfg == nil || cfg.Balancer == nil || n < 1 {
		return model.Pos{}, false
	}
	lines := strings.Split(text, "\n")
	if n > len(lines) {
		return model.Pos{}, false
	}
	line := strings.TrimSpace(lines[n-1])
	header := ""
	for i := n - 1; i >= 0; i-- {
		if l := lines[i]; l != "" && l[0] != '\t' && l[0] != ' ' && l[0] != '#' {
			header = l
			break
		}
	}
	kind, name, _ := strings.Cut(header, " ")
	b := cfg.Balancer
	find := func(ls []model.Line) (model.Pos, bool) {
		for _, l := range ls {
			if l.Text == line {
				return l.Pos, true
			}
		}
		return model.Pos{}, false
	}
	switch kind {
	case "global":
		if p, ok := find(b.Global); ok {
			return p, true
		}
		return b.At("socket_file"), true
	case "defaults":
		if p, ok := find(b.Defaults); ok {
			return p, true
		}
		return b.At("defaults"), true
	case "frontend":
		if c, ok := cfg.Clusters[strings.TrimPrefix(name, model.FrontendPrefix)]; ok && strings.HasPrefix(name, model.FrontendPrefix) {
			if p, ok := find(c.HAProxy.Frontend); ok {
				return p, true
			}
			if strings.HasPrefix(line, "bind ") {
				return c.At("haproxy.port"), true
			}
			return c.At("name"), true
		}
		if mc, ok := b.MetaClusters[name]; ok {
			if p, ok := find(mc.Frontend); ok {
				return p, true
			}
			if acl, ok := strings.CutPrefix(line, "acl is_"); ok {
				if c, ok := cfg.Clusters[strings.Fields(acl)[0]]; ok {
					return c.At("haproxy.acl"), true
				}
			}
			return b.At("meta_clusters." + name), true
		}
	case "backend":
		if c, ok := cfg.Clusters[name]; ok {
			if p, ok := find(c.HAProxy.Backend); ok {
				return p, true
			}
			if strings.HasPrefix(line, "server ") && c.HAProxy.ServerOptions != "" && strings.HasSuffix(line, c.HAProxy.ServerOptions) {
				return c.At("haproxy.server_options"), true
			}
			return c.At("name"), true
		}
	case "listen":
		if name == "stats" && b.Stats != nil {
			return b.At("stats"), true
		}
		if px, ok := b.Proxies[name]; ok {
			if p, ok := find(px.Options); ok {
				return p, true
			}
			return b.At("proxies." + name), true
		}
	case "peers":
		if c, ok := cfg.Clusters[name]; ok {
			return c.At("name"), true
		}
	}
	return model.Pos{}, false
}

// LocateAlert is Locate for an alert of `haproxy -c` about text: the line
// it names ("parsing [haproxy.cfg:42] : ..."). ok is false when it names
// none, or one Locate cannot place.
func LocateAlert(cfg *model.Config, text, alert string) (pos model.Pos, ok bool) {
	m := alertLine.FindStringSubmatch(alert)
	if m == nil {
		return model.Pos{}, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return model.Pos{}, false
	}
	return Locate(cfg, text, n)
}

// alertLine finds the line of the config an HAProxy alert is about.
var alertLine = regexp.MustCompile(`\[[^\]]*:(\d+)\]`)
