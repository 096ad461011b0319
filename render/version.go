package render

import "lighthouse/model"

// Version is an HAProxy version; see model.Version.
type Version = model.Version

// ParseVersion reads an HAProxy version; see model.ParseVersion.
func ParseVersion(s string) (Version, error) { return model.ParseVersion(s) }
