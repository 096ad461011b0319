package render

import (
	"lighthouse/model"
	"lighthouse/render/keywords"
)

// FrontendName is the name of the frontend of cluster name: the cluster's
// name after model.FrontendPrefix ("fe:web"). The backend keeps the
// cluster's name, which the runtime API, the stats page and dashboards key
// on; meta clusters' frontends keep theirs.
func FrontendName(cluster string) string { return model.FrontendPrefix + cluster }

func (r *renderer) metaFrontends() {
	r.section(titleMeta)
	for _, meta := range r.b.MetaClusterNames() {
		mc := r.b.MetaClusters[meta]
		var members []string
		for _, name := range r.clusterNames {
			if c := r.cfg.Clusters[name]; c.MetaCluster == meta && r.backendOK[name] {
				if c.HAProxy.ACL == "" {
					r.errorAt(c.At("haproxy.acl"), "cluster %s is left out of meta cluster %s: it has no acl", name, meta)
					continue
				}
				if !r.text(c.At("haproxy.acl"), "acl", c.HAProxy.ACL) {
					continue
				}
				if msg := checkQuotes(c.HAProxy.ACL); msg != "" {
					r.errorAt(c.At("haproxy.acl"), "cluster %s is left out of meta cluster %s: HAProxy cannot parse its acl: %s", name, meta, msg)
					continue
				}
				members = append(members, name)
			}
		}
		if len(members) == 0 {
			r.diags = append(r.diags, mc.Pos.Diag(model.Warning, "no cluster is a member of this meta cluster: it gets no frontend"))
			continue
		}
		if !r.claim("frontend", meta, "the frontend of meta cluster "+meta, mc.Pos) {
			continue
		}
		r.stanza("frontend " + meta)
		r.bind(r.b.At("meta_clusters."+meta+".port"), r.b.BindAddress, mc.Port)
		r.directives(keywords.Frontend, mc.Frontend)
		for _, name := range members {
			r.line("acl", "is_"+name, r.cfg.Clusters[name].HAProxy.ACL)
			r.line("use_backend", name, "if", "is_"+name)
		}
	}
}

func (r *renderer) clusterFrontends() {
	r.section(titleFrontends)
	for _, name := range r.clusterNames {
		c := r.cfg.Clusters[name]
		if c.HAProxy.Port == 0 || !r.backendOK[name] || !r.claim("frontend", FrontendName(name), "the frontend of cluster "+name, c.At("name")) {
			continue
		}
		r.stanza("frontend " + FrontendName(name))
		r.directives(keywords.Frontend, c.HAProxy.Frontend)
		r.bind(c.At("haproxy.port"), r.b.BindAddress, c.HAProxy.Port)
		r.line("default_backend", name)
	}
}
