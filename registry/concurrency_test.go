package registry_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// TestConcurrentRegistration has eight goroutines register the same schemas in
// different orders into shared subjects while checking compatibility, and checks
// the answers are consistent: one id per schema, ids 1..N, versions contiguous.
func TestConcurrentRegistration(t *testing.T) {
	const (
		workers = 8
		nSchema = 12
	)
	schemas := make([]string, nSchema)
	for i := range schemas {
		schemas[i] = rec(fld(fmt.Sprintf("f%d", i), `"int"`))
	}
	eachStore(t, func(t *testing.T, url string) {
		post(t, "PUT", url+"/config", `{"compatibility":"NONE"}`, nil)
		post(t, "PUT", url+"/config/strict", `{"compatibility":"BACKWARD"}`, nil)
		post(t, "POST", url+"/subjects/strict/versions", schemaBody(rec(fld("a", `"int"`))), nil)
		compatible := rec(fld("a", `"int"`), fldd("b", `"int"`, "0"))
		incompatible := rec(fld("a", `"int"`), fld("b", `"int"`))

		ids := make([][]int, workers) // ids[w][schema]
		var wg sync.WaitGroup
		errs := make(chan error, workers*nSchema*4)
		for w := range workers {
			ids[w] = make([]int, nSchema)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range nSchema {
					i := (k*5 + w*7) % nSchema // a different order per worker
					for _, subject := range []string{"shared-a", "shared-b"} {
						var got struct {
							ID int `json:"id"`
						}
						if st := postQuiet(url+"/subjects/"+subject+"/versions", schemaBody(schemas[i]), &got); st != 200 {
							errs <- fmt.Errorf("worker %d: registering schema %d in %s: status %d", w, i, subject, st)
							return
						}
						if ids[w][i] != 0 && ids[w][i] != got.ID {
							errs <- fmt.Errorf("worker %d: schema %d has id %d in one subject and %d in another", w, i, ids[w][i], got.ID)
						}
						ids[w][i] = got.ID
					}
					for _, c := range []struct {
						schema string
						want   bool
					}{{compatible, true}, {incompatible, false}} {
						var got verboseCompat
						if st := postQuiet(url+"/compatibility/subjects/strict/versions/latest", schemaBody(c.schema), &got); st != 200 || got.IsCompatible != c.want {
							errs <- fmt.Errorf("worker %d: compatibility: status %d is_compatible %v, want %v", w, st, got.IsCompatible, c.want)
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			return
		}
		var seen []int
		for i := range nSchema {
			for w := 1; w < workers; w++ {
				if ids[w][i] != ids[0][i] {
					t.Fatalf("schema %d: worker 0 got id %d, worker %d got %d", i, ids[0][i], w, ids[w][i])
				}
			}
			seen = append(seen, ids[0][i])
		}
		slices.Sort(seen)
		// Id 1 is the "strict" base schema; the shared schemas get 2..N+1.
		for k, id := range seen {
			if id != k+2 {
				t.Fatalf("ids %v are not contiguous from 2", seen)
			}
		}
		for _, subject := range []string{"shared-a", "shared-b"} {
			var versions []int
			post(t, "GET", url+"/subjects/"+subject+"/versions", "", &versions)
			if len(versions) != nSchema || versions[0] != 1 || versions[nSchema-1] != nSchema {
				t.Fatalf("%s versions %v, want 1..%d", subject, versions, nSchema)
			}
			for _, v := range versions {
				var ss struct {
					ID     int    `json:"id"`
					Schema string `json:"schema"`
				}
				post(t, "GET", fmt.Sprintf("%s/subjects/%s/versions/%d", url, subject, v), "", &ss)
				i := slices.Index(schemas, ss.Schema)
				if i < 0 || ids[0][i] != ss.ID {
					t.Fatalf("%s version %d: id %d for schema %d", subject, v, ss.ID, i)
				}
			}
		}
	})
}
