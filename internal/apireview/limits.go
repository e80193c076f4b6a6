package apireview

import "cmp"

// Limits bound the work a hostile project can cause. The zero value means
// DefaultLimits.
type Limits struct {
	// MaxFileBytes is the largest single file read.
	MaxFileBytes int64
	// MaxTotalBytes caps everything read for one side, re-reads of a file
	// included several times counted again.
	MaxTotalBytes int64
	// MaxFileNodes caps one file's YAML nodes, estimated before parsing
	// from the separators that start one (",", ":", "-", "[", "{"): the
	// parser's tree takes about 190 bytes a node, so a 4 MiB file of
	// "a,a,a…" would otherwise take hundreds of MiB.
	MaxFileNodes int
	// MaxNodes caps the YAML nodes visited for one side, aliases counted
	// each time they are followed.
	MaxNodes int
	// MaxAliasNodes caps the nodes visited through aliases: an alias bomb
	// runs into it long before MaxNodes.
	MaxAliasNodes int
	// MaxIncludeDepth caps nested !include chains.
	MaxIncludeDepth int
	// MaxMigrations caps the migration files read.
	MaxMigrations int
}

// DefaultLimits fit projects of a few thousand tables with room to spare.
var DefaultLimits = Limits{
	MaxFileBytes:    4 << 20,
	MaxTotalBytes:   32 << 20,
	MaxFileNodes:    250_000,
	MaxNodes:        5_000_000,
	MaxAliasNodes:   200_000,
	MaxIncludeDepth: 16,
	MaxMigrations:   5000,
}

func (l Limits) orDefault() Limits {
	d := DefaultLimits
	return Limits{
		MaxFileBytes:    cmp.Or(l.MaxFileBytes, d.MaxFileBytes),
		MaxTotalBytes:   cmp.Or(l.MaxTotalBytes, d.MaxTotalBytes),
		MaxFileNodes:    cmp.Or(l.MaxFileNodes, d.MaxFileNodes),
		MaxNodes:        cmp.Or(l.MaxNodes, d.MaxNodes),
		MaxAliasNodes:   cmp.Or(l.MaxAliasNodes, d.MaxAliasNodes),
		MaxIncludeDepth: cmp.Or(l.MaxIncludeDepth, d.MaxIncludeDepth),
		MaxMigrations:   cmp.Or(l.MaxMigrations, d.MaxMigrations),
	}
}
