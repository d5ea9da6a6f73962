package rawjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func members(raw string) []string {
	var out []string
	for it := Members([]byte(raw)); ; {
		k, v, ok := it.Next()
		if !ok {
			return out
		}
		out = append(out, string(k)+"="+string(v))
	}
}

func elements(raw string) []string {
	var out []string
	for it := Elements([]byte(raw)); ; {
		v, ok := it.Next()
		if !ok {
			return out
		}
		out = append(out, string(v))
	}
}

func TestMembersAndElements(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want string
	}{
		{`{}`, ``},
		{`{"a":1,"b":"x","c":{"d":[1,2]},"e":null}`, `"a"=1 "b"="x" "c"={"d":[1,2]} "e"=null`},
		{` { "a" : 1 , "b":[ "]" ] } `, `"a"=1 "b"=[ "]" ]`},
		{`{"a\"b":"c\\"}`, `"a\"b"="c\\"`},
		{`{"a":1,`, `"a"=1`},       // truncated: what came before
		{`{"a":}`, ``},             // malformed: nothing
		{`{"a":1 "b":2}`, `"a"=1`}, // no comma: ends
		{`[1,2]`, ``},              // not an object
		{`"x"`, ``},
		{``, ``},
	} {
		if got := strings.Join(members(c.raw), " "); got != c.want {
			t.Errorf("Members(%s) = %s, want %s", c.raw, got, c.want)
		}
	}
	for _, c := range []struct {
		raw  string
		want string
	}{
		{`[]`, ``},
		{`[1,"a",{"b":[2]},[3],null,true]`, `1 "a" {"b":[2]} [3] null true`},
		{` [ 1 , 2 ] `, `1 2`},
		{`[1,`, `1`},
		{`[1 2]`, `1`},
		{`[,]`, ``},
		{`{"a":1}`, ``},
	} {
		if got := strings.Join(elements(c.raw), " "); got != c.want {
			t.Errorf("Elements(%s) = %s, want %s", c.raw, got, c.want)
		}
	}
}

func TestMemberAndKeys(t *testing.T) {
	raw := []byte(`{"a":1,"\u0062":2,"a":3,"long\u002dkey\u002dwith\u002dmany\u002descapes\u002dbeyond\u002dsixty\u002dfour\u002dbytes":4}`)
	for key, want := range map[string]string{"a": "1", "b": "2", "long-key-with-many-escapes-beyond-sixty-four-bytes": "4"} {
		if v, ok := Member(raw, key); !ok || string(v) != want {
			t.Errorf("Member(%q) = %s %v, want %s", key, v, ok, want)
		}
	}
	if _, ok := Member(raw, "c"); ok {
		t.Error("Member found a missing key")
	}
	if !KeyIs([]byte(`"\u0061"`), "a") || KeyIs([]byte(`"a"`), "b") || KeyIs([]byte(`"ab"`), "a") || KeyIs([]byte(`x`), "x") {
		t.Error("KeyIs")
	}
	if !SameKey([]byte(`"\u0061"`), []byte(`"a"`)) || SameKey([]byte(`"a"`), []byte(`"b"`)) {
		t.Error("SameKey")
	}
}

func TestKind(t *testing.T) {
	for v, want := range map[string]byte{`"x"`: '"', `-1`: '0', `7`: '0', `true`: 't', `false`: 'f', `null`: 'n', `{}`: '{', `[]`: '[', ``: 0, `x`: 0} {
		if got := Kind([]byte(v)); got != want {
			t.Errorf("Kind(%s) = %q, want %q", v, got, want)
		}
	}
}

func TestWalk(t *testing.T) {
	var got []string
	Walk([]byte(`{"a":[1,"x",{"b":null}],"c":true}`), func(kind byte, v []byte) {
		got = append(got, string(kind)+string(v))
	})
	if want := []string{"01", `""x"`, "nnull", "ttrue"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Walk: %q, want %q", got, want)
	}
	deep := strings.Repeat("[", 10000) + "1" + strings.Repeat("]", 10000)
	n := 0
	Walk([]byte(deep), func(byte, []byte) { n++ })
	if n != 0 {
		t.Errorf("Walk went %d leaves deeper than MaxDepth", n)
	}
}

// Unquote decodes as encoding/json does, lone surrogates included.
func TestUnquote(t *testing.T) {
	for _, q := range []string{`"plain"`, `"a\"b\\c\/d\n\t\r\b\f"`, `"\u00e9\u20ac"`, `"\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `""`} {
		var want string
		if err := json.Unmarshal([]byte(q), &want); err != nil {
			t.Fatal(err)
		}
		if got := string(Unquote([]byte(q), nil)); got != want {
			t.Errorf("Unquote(%s) = %q, want %q", q, got, want)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	raw := []byte(`{"a":1,"b":[1,2,{"c":"d"}],"e":"f\u00e9"}`)
	n := testing.AllocsPerRun(100, func() {
		for it := Members(raw); ; {
			_, v, ok := it.Next()
			if !ok {
				break
			}
			for it := Elements(v); ; {
				if _, ok := it.Next(); !ok {
					break
				}
			}
		}
		var buf [16]byte
		v, _ := Member(raw, "e")
		_ = Unquote(v, buf[:0])
	})
	if n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// FuzzRawJSON: on any input the readers end without panicking; on valid
// JSON, Members and Elements see what encoding/json sees and Unquote
// decodes every string as it does.
func FuzzRawJSON(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[true,null,"x\u00e9"],"c":{"d":-1.5e3}}`, `[{"a":"\ud800"},[]]`, `{"a":`, `[[[`, `"\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		n := 0
		Walk(raw, func(kind byte, v []byte) { n++ })
		valid := json.Valid(raw) && utf8.Valid(raw)
		var compact bytes.Buffer
		if valid {
			_ = json.Compact(&compact, raw)
			raw = compact.Bytes()
		}
		var obj map[string]json.RawMessage
		var arr []json.RawMessage
		isObj := valid && json.Unmarshal(raw, &obj) == nil
		isArr := valid && json.Unmarshal(raw, &arr) == nil
		seen := map[string]json.RawMessage{}

		for it := Members(raw); ; {
			k, v, ok := it.Next()
			if !ok {
				break
			}

			if isObj {
				var name string
				if err := json.Unmarshal(k, &name); err != nil {
					t.Fatalf("key %s: %v", k, err)
				}
				if got := string(Unquote(k, nil)); got != name {
					t.Fatalf("Unquote(%s) = %q, want %q", k, got, name)
				}
				seen[name] = json.RawMessage(v) // the last of a repeated key, as Unmarshal keeps it
			}
		}
		if isObj && !reflect.DeepEqual(seen, obj) && !(len(seen) == 0 && len(obj) == 0) {
			t.Fatalf("Members of %s: %v, want %v", raw, seen, obj)
		}
		var elems []json.RawMessage
		for it := Elements(raw); ; {
			v, ok := it.Next()
			if !ok {
				break
			}
			elems = append(elems, v)
		}
		if isArr && len(elems) != len(arr) {
			t.Fatalf("Elements of %s: %d, want %d", raw, len(elems), len(arr))
		}
		for i := range elems {
			if isArr && !bytes.Equal(elems[i], arr[i]) {
				t.Fatalf("Elements of %s: %s, want %s", raw, elems[i], arr[i])
			}
		}

	})
}
