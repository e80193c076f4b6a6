package repoconfig
import ("testing";"os";"time")
func TestHang(t *testing.T){
 data,_ := os.ReadFile("/tmp/hang.yml")
 start := time.Now()
 c, err := Parse(data)
 t.Log(time.Since(start), c, err)
 start = time.Now()
 r, err := c.Resolve(func(string) string { return "postgres://u:p@h/db" }, prefix)
 t.Log(time.Since(start), r, err)
}
