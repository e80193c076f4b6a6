package apireview

import (
	"io/fs"
	"os"
	"reflect"
	"testing"
)

// Load reads one Hasura project, as LoadPair does for each side.
func Load(fsys fs.FS, lim Limits) *Project { return load(fsys, lim, nil) }

// diffDirs loads testdata/<name>/base and head and diffs them.
func diffDirs(t *testing.T, name string) *Report {
	t.Helper()
	base, head := LoadPair(os.DirFS("testdata/"+name+"/base"), os.DirFS("testdata/"+name+"/head"), Limits{})
	for _, p := range append(base.Problems, head.Problems...) {
		t.Errorf("unexpected problem reading %s: %+v", name, p)
	}
	return Diff(base, head, Options{})
}

func findPerm(t *testing.T, r *Report, table, role, op string) PermissionChange {
	t.Helper()
	for _, p := range r.Permissions {
		if p.Table == table && p.Role == role && p.Op == op {
			return p
		}
	}
	t.Fatalf("no permission change for %s %s on %s; have %+v", role, op, table, r.Permissions)
	return PermissionChange{}
}

func findChange(t *testing.T, cs []Change, name string) Change {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no change named %q in %+v", name, cs)
	return Change{}
}

func noPerm(t *testing.T, r *Report, table, role, op string) {
	t.Helper()
	for _, p := range r.Permissions {
		if p.Table == table && p.Role == role && p.Op == op {
			t.Errorf("%s %s on %s reported, want nothing: %+v", role, op, table, p)
		}
	}
}

// TestLoadPairSameAsLoad: sharing parsed tables between the sides changes
// nothing in what each side holds.
func TestLoadPairSameAsLoad(t *testing.T) {
	for _, name := range []string{"cloud-preview-apps", "nextjs-13"} {
		b, h := os.DirFS("testdata/"+name+"/base"), os.DirFS("testdata/"+name+"/head")
		pb, ph := LoadPair(b, h, Limits{})
		if !reflect.DeepEqual(pb, Load(b, Limits{})) || !reflect.DeepEqual(ph, Load(h, Limits{})) {
			t.Errorf("%s: LoadPair differs from Load", name)
		}
	}
}
