package awsquery

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// kind is what a field holds: the pointee of a pointer field, the element of a list field.
type kind uint8

const (
	kindString kind = iota + 1
	kindInt32
	kindBool
	kindFloat64
	kindTime
	kindStruct
)

// fieldInfo is what the codec knows about one struct field, read once from its tags.
type fieldInfo struct {
	index int          // position in the struct, for reflect.Value.Field
	kind  kind         // of the pointee or the list element
	list  bool         // a slice field; otherwise a pointer field
	typ   reflect.Type // the field's own type (*T or []T)
	elem  reflect.Type // T
	sub   *structInfo  // for kindStruct

	// compoundOrd is the field's position in structInfo.compound, for lists and structs.
	compoundOrd int
	// slot is the field of structInfo.arena that a decoded pointer field points into.
	slot int

	// From the query tag.
	qName, qMember string
	required       bool

	// From the xml tag.
	xName, xMember string
}

// structInfo is the per-type metadata, built on first use and cached for the process lifetime.
type structInfo struct {
	fields   []fieldInfo
	decode   []int // fields with a query tag, in declaration order
	compound []int // those of decode that are lists or structs: their keys contain a '.'
	encode   []int // fields with an xml tag, in declaration order

	// arena is a struct type with one field per pointer field that Decode fills (a string
	// for *string, a window for *window, …). Decode allocates one arena per struct value, or
	// one slice of arenas per list, and points the fields into it, so the seven pointers of a
	// Create request with three tags cost three allocations, not seven. nil when there are no
	// such fields.
	arena      reflect.Type
	arenaSlice reflect.Type // []arena
}

// compoundOrdinal returns the position in compound of the field whose query name is seg, or -1.
// A struct has a handful of compound fields, so a linear scan beats hashing.
func (si *structInfo) compoundOrdinal(seg string) int {
	for n, i := range si.compound {
		if si.fields[i].qName == seg {
			return n
		}
	}
	return -1
}

type cacheEntry struct {
	info *structInfo
	err  error
}

// typeCache maps reflect.Type to *cacheEntry. It is the package's only mutable state: the
// metadata of a type never changes, and a programming error is cached like a success so that
// it is reported on every use, not only the first.
var typeCache sync.Map

// structInfoOf returns the metadata of struct type t, or a plain error when its tags or field
// types are outside what the codec supports (a bug in the generator, not in a request).
func structInfoOf(t reflect.Type) (*structInfo, error) {
	if e, ok := typeCache.Load(t); ok {
		ce := e.(*cacheEntry)
		return ce.info, ce.err
	}
	b := builder{seen: make(map[reflect.Type]*structInfo)}
	if _, err := b.build(t); err != nil {
		typeCache.Store(t, &cacheEntry{err: err})
		return nil, err
	}
	// Nested types were checked as part of t; caching them too saves rebuilding them when
	// they are used on their own. Recursive types point at each other, so store them as built.
	for st, info := range b.seen {
		typeCache.LoadOrStore(st, &cacheEntry{info: info})
	}
	e, _ := typeCache.Load(t)
	return e.(*cacheEntry).info, nil
}

type builder struct {
	seen map[reflect.Type]*structInfo
}

func (b *builder) build(t reflect.Type) (*structInfo, error) {
	if si, ok := b.seen[t]; ok {
		return si, nil // recursion: filled in by the caller up the stack
	}
	si := &structInfo{}
	b.seen[t] = si
	qNames := make(map[string]bool)
	xNames := make(map[string]bool)
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		qTag, hasQ := sf.Tag.Lookup("query")
		xTag, hasX := sf.Tag.Lookup("xml")
		if qTag == "-" {
			hasQ = false
		}
		if xTag == "-" {
			hasX = false
		}
		if !hasQ && !hasX {
			continue
		}
		where := fmt.Sprintf("awsquery: %v.%s", t, sf.Name)
		if !sf.IsExported() {
			return nil, fmt.Errorf("%s: tagged field is not exported", where)
		}
		fi := fieldInfo{index: i, typ: sf.Type}
		var ok bool
		fi.kind, fi.list, fi.elem, ok = classify(sf.Type)
		if !ok {
			return nil, fmt.Errorf("%s: unsupported type %v (want *string, *int32, *bool, *float64, *time.Time, *struct or a slice of those values)", where, sf.Type)
		}
		if hasQ {
			name, member, required, err := parseTag(qTag, fi.list)
			if err != nil {
				return nil, fmt.Errorf("%s: query tag: %w", where, err)
			}
			if qNames[name] {
				return nil, fmt.Errorf("%s: query name %q used twice", where, name)
			}
			qNames[name] = true
			fi.qName, fi.qMember, fi.required = name, member, required
		}
		if hasX {
			// The generator writes both tags alike; `required` means nothing to the encoder.
			name, member, _, err := parseTag(xTag, fi.list)
			if err != nil {
				return nil, fmt.Errorf("%s: xml tag: %w", where, err)
			}
			if xNames[name] {
				return nil, fmt.Errorf("%s: xml name %q used twice", where, name)
			}
			xNames[name] = true
			fi.xName, fi.xMember = name, member
		}
		if fi.kind == kindStruct {
			sub, err := b.build(fi.elem)
			if err != nil {
				return nil, err
			}
			fi.sub = sub
		}
		n := len(si.fields)
		si.fields = append(si.fields, fi)
		if hasQ {
			si.decode = append(si.decode, n)
			if fi.list || fi.kind == kindStruct {
				si.fields[n].compoundOrd = len(si.compound)
				si.compound = append(si.compound, n)
			}
		}
		if hasX {
			si.encode = append(si.encode, n)
		}
	}
	var slots []reflect.StructField
	for _, i := range si.decode {
		fi := &si.fields[i]
		if fi.list {
			continue
		}
		fi.slot = len(slots)
		slots = append(slots, reflect.StructField{Name: "F" + strconv.Itoa(len(slots)), Type: fi.elem})
	}
	if len(slots) > 0 {
		si.arena = reflect.StructOf(slots)
		si.arenaSlice = reflect.SliceOf(si.arena)
	}
	return si, nil
}

// classify maps a field type to the codec's kinds: pointers to scalars or structs, and slices
// of scalar or struct values.
func classify(t reflect.Type) (k kind, list bool, elem reflect.Type, ok bool) {
	switch t.Kind() {
	case reflect.Pointer:
		elem = t.Elem()
	case reflect.Slice:
		list = true
		elem = t.Elem()
	default:
		return 0, false, nil, false
	}
	if elem == reflect.TypeFor[time.Time]() {
		return kindTime, list, elem, true
	}
	switch elem.Kind() {
	case reflect.String:
		k = kindString
	case reflect.Int32:
		k = kindInt32
	case reflect.Bool:
		k = kindBool
	case reflect.Float64:
		k = kindFloat64
	case reflect.Struct:
		k = kindStruct
	default:
		return 0, false, nil, false
	}
	return k, list, elem, true
}

// parseTag reads `WireName[,member=M][,required]`. A list without member= uses the protocol's
// default member name, "member". Anything else (flattened lists, maps, encoding/xml options)
// is rejected: the model has none of it, so seeing it means the generator went wrong.
func parseTag(tag string, list bool) (name, member string, required bool, err error) {
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		return "", "", false, fmt.Errorf("%q has no wire name", tag)
	}
	if strings.ContainsAny(name, ". ") {
		return "", "", false, fmt.Errorf("wire name %q contains '.' or a space", name)
	}
	for opts != "" {
		var opt string
		opt, opts, _ = strings.Cut(opts, ",")
		switch {
		case opt == "required":
			required = true
		case strings.HasPrefix(opt, "member="):
			member = strings.TrimPrefix(opt, "member=")
			if member == "" || strings.ContainsAny(member, ". ") {
				return "", "", false, fmt.Errorf("bad member name in %q", tag)
			}
		case opt == "flat" || opt == "flattened":
			return "", "", false, fmt.Errorf("flattened lists are not supported (%q)", tag)
		case opt == "map" || strings.HasPrefix(opt, "key=") || strings.HasPrefix(opt, "value="):
			return "", "", false, fmt.Errorf("maps are not supported (%q)", tag)
		default:
			return "", "", false, fmt.Errorf("unknown option %q in %q", opt, tag)
		}
	}
	switch {
	case list && member == "":
		member = "member"
	case !list && member != "":
		return "", "", false, fmt.Errorf("member= on a field that is not a list (%q)", tag)
	}
	return name, member, required, nil
}
