package registry_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
)

func frCode(err error) int {
	var e *sr.ResponseError
	if errors.As(err, &e) {
		return e.ErrorCode
	}
	return 0
}

// TestFranzSRConformance drives franz-go's pkg/sr client against each store,
// including schema references.
func TestFranzSRConformance(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ctx := context.Background()
		cl, err := sr.NewClient(sr.URLs(url))
		if err != nil {
			t.Fatal(err)
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		wantCode := func(err error, code int) {
			t.Helper()
			if got := frCode(err); got != code {
				t.Fatalf("error %v: code %d, want %d", err, got, code)
			}
		}
		const subj = "user-topic-value"

		types, err := cl.SupportedTypes(ctx)
		must(err)
		slices.Sort(types)
		if !slices.Equal(types, []sr.SchemaType{sr.TypeAvro, sr.TypeProtobuf, sr.TypeJSON}) {
			t.Fatalf("SupportedTypes = %v", types)
		}

		ss, err := cl.CreateSchema(ctx, subj, sr.Schema{Schema: userEventV1})
		must(err)
		if ss.ID != 1 || ss.Version != 1 || ss.Subject != subj || ss.Type != sr.TypeAvro {
			t.Fatalf("CreateSchema v1 = %+v", ss)
		}
		id, err := cl.RegisterSchema(ctx, subj, sr.Schema{Schema: userEventV2}, -1, -1)
		must(err)
		if id != 2 {
			t.Fatalf("RegisterSchema v2 = %d", id)
		}
		_, err = cl.CreateSchema(ctx, subj, sr.Schema{Schema: userEventV3Bad})
		wantCode(err, 409)
		_, err = cl.CreateSchema(ctx, subj, sr.Schema{Schema: `{"type":"objekt"}`, Type: sr.TypeJSON})
		wantCode(err, 42201)
		_, err = cl.CreateSchema(ctx, subj, sr.Schema{Schema: `message M { strin a = 1; }`, Type: sr.TypeProtobuf})
		wantCode(err, 42201)
		// A valid schema of another type is a type change: never compatible.
		_, err = cl.CreateSchema(ctx, subj, sr.Schema{Schema: `{"type":"object"}`, Type: sr.TypeJSON})
		wantCode(err, 409)

		looked, err := cl.LookupSchema(sr.WithParams(ctx, sr.Normalize), subj, sr.Schema{Schema: userEventV1Reordered})
		must(err)
		if looked.ID != 1 || looked.Version != 1 {
			t.Fatalf("LookupSchema = %+v", looked)
		}
		s, err := cl.SchemaByID(ctx, 2)
		must(err)
		if s.Schema != userEventV2 {
			t.Fatalf("SchemaByID(2) = %q", s.Schema)
		}
		text, err := cl.SchemaTextByID(ctx, 1)
		must(err)
		if text != userEventV1 {
			t.Fatalf("SchemaTextByID(1) = %q", text)
		}
		_, err = cl.SchemaByID(ctx, 77)
		wantCode(err, 40403)
		latest, err := cl.SchemaByVersion(ctx, subj, -1)
		must(err)
		if latest.Version != 2 || latest.ID != 2 {
			t.Fatalf("SchemaByVersion(latest) = %+v", latest)
		}
		text, err = cl.SchemaTextByVersion(ctx, subj, 1)
		must(err)
		if text != userEventV1 {
			t.Fatalf("SchemaTextByVersion(1) = %q", text)
		}
		versions, err := cl.SubjectVersions(ctx, subj)
		must(err)
		if !slices.Equal(versions, []int{1, 2}) {
			t.Fatalf("SubjectVersions = %v", versions)
		}
		all, err := cl.Schemas(ctx, subj)
		must(err)
		if len(all) != 2 {
			t.Fatalf("Schemas = %+v", all)
		}

		// The same schema under another subject keeps its id.
		other, err := cl.CreateSchema(ctx, "other-value", sr.Schema{Schema: userEventV1})
		must(err)
		if other.ID != 1 || other.Version != 1 {
			t.Fatalf("v1 under other-value = %+v", other)
		}
		subjects, err := cl.SubjectsByID(ctx, 1)
		must(err)
		if !slices.Equal(subjects, []string{"other-value", subj}) {
			t.Fatalf("SubjectsByID(1) = %v", subjects)
		}
		svs, err := cl.SchemaVersionsByID(ctx, 1)
		must(err)
		if len(svs) != 2 {
			t.Fatalf("SchemaVersionsByID(1) = %v", svs)
		}
		usages, err := cl.SchemaUsagesByID(ctx, 1)
		must(err)
		if len(usages) != 2 {
			t.Fatalf("SchemaUsagesByID(1) = %v", usages)
		}

		// References: a record type defined by another subject.
		const addr = `{"type":"record","name":"Address","namespace":"com.example","fields":[{"name":"city","type":"string"}]}`
		const person = `{"type":"record","name":"Person","namespace":"com.example","fields":[{"name":"home","type":"com.example.Address"}]}`
		_, err = cl.CreateSchema(ctx, "address", sr.Schema{Schema: addr})
		must(err)
		ref := []sr.SchemaReference{{Name: "com.example.Address", Subject: "address", Version: 1}}
		p, err := cl.CreateSchema(ctx, "person", sr.Schema{Schema: person, References: ref})
		must(err)
		if len(p.References) != 1 || p.References[0] != ref[0] {
			t.Fatalf("person references = %+v", p.References)
		}
		_, err = cl.CreateSchema(ctx, "person2", sr.Schema{Schema: person})
		wantCode(err, 42201) // without the reference the type is unknown
		by, err := cl.SchemaReferences(ctx, "address", 1)
		must(err)
		if len(by) != 1 || by[0].Subject != "person" {
			t.Fatalf("SchemaReferences(address,1) = %+v", by)
		}
		pl, err := cl.LookupSchema(ctx, "person", sr.Schema{Schema: person, References: ref})
		must(err)
		if pl.ID != p.ID {
			t.Fatalf("lookup with references: %+v", pl)
		}

		// Compatibility checks.
		res, err := cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subj, -1, sr.Schema{Schema: userEventV3Bad})
		must(err)
		if res.Is || !strings.Contains(strings.Join(res.Messages, " "), "region") {
			t.Fatalf("CheckCompatibility(latest, v3) = %+v", res)
		}
		res, err = cl.CheckCompatibility(ctx, subj, 1, sr.Schema{Schema: userEventV2})
		must(err)
		if !res.Is {
			t.Fatalf("CheckCompatibility(1, v2) = %+v", res)
		}
		res, err = cl.CheckCompatibility(ctx, subj, -2, sr.Schema{Schema: userEventV3Bad})
		must(err)
		if res.Is {
			t.Fatalf("CheckCompatibility(all, v3) = %+v", res)
		}

		// Configs.
		global := cl.Compatibility(ctx)
		if global[0].Err != nil || global[0].Level != sr.CompatBackward {
			t.Fatalf("global Compatibility = %+v", global[0])
		}
		r := cl.Compatibility(ctx, subj)
		wantCode(r[0].Err, 40408)
		r = cl.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), subj)
		if r[0].Err != nil || r[0].Level != sr.CompatBackward {
			t.Fatalf("Compatibility(defaultToGlobal) = %+v", r[0])
		}
		set := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatFullTransitive}, subj)
		if set[0].Err != nil || set[0].Level != sr.CompatFullTransitive {
			t.Fatalf("SetCompatibility = %+v", set[0])
		}
		r = cl.Compatibility(ctx, subj)
		if r[0].Err != nil || r[0].Level != sr.CompatFullTransitive {
			t.Fatalf("Compatibility after set = %+v", r[0])
		}
		set = cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatForward})
		if set[0].Err != nil || set[0].Level != sr.CompatForward {
			t.Fatalf("SetCompatibility(global) = %+v", set[0])
		}
		reset := cl.ResetCompatibility(ctx, subj)
		must(reset[0].Err)
		r = cl.Compatibility(ctx, subj)
		wantCode(r[0].Err, 40408)
		must(cl.ResetCompatibility(ctx)[0].Err)
		if g := cl.Compatibility(ctx); g[0].Level != sr.CompatBackward {
			t.Fatalf("global after reset = %+v", g[0])
		}

		// Deletes.
		must(cl.DeleteSchema(ctx, subj, 1, sr.SoftDelete))
		wantCode(cl.DeleteSchema(ctx, subj, 1, sr.SoftDelete), 40406)
		wantCode(cl.DeleteSchema(ctx, subj, 2, sr.HardDelete), 40407)
		must(cl.DeleteSchema(ctx, subj, 1, sr.HardDelete))
		deleted, err := cl.DeleteSubject(ctx, subj, sr.SoftDelete)
		must(err)
		if !slices.Equal(deleted, []int{2}) {
			t.Fatalf("DeleteSubject(soft) = %v", deleted)
		}
		_, err = cl.DeleteSubject(ctx, subj, sr.SoftDelete)
		wantCode(err, 40404)
		_, err = cl.DeleteSubject(ctx, "other-value", sr.HardDelete)
		wantCode(err, 40405)
		withDeleted, err := cl.Subjects(sr.WithParams(ctx, sr.ShowDeleted))
		must(err)
		sort.Strings(withDeleted)
		if !slices.Equal(withDeleted, []string{"address", "other-value", "person", subj}) {
			t.Fatalf("Subjects(deleted) = %v", withDeleted)
		}
		deleted, err = cl.DeleteSubject(ctx, subj, sr.HardDelete)
		must(err)
		if !slices.Equal(deleted, []int{2}) {
			t.Fatalf("DeleteSubject(hard) = %v", deleted)
		}
		live, err := cl.Subjects(ctx)
		must(err)
		if !slices.Equal(live, []string{"address", "other-value", "person"}) {
			t.Fatalf("Subjects = %v", live)
		}
		_, err = cl.SubjectVersions(ctx, subj)
		wantCode(err, 40401)
	})
}
