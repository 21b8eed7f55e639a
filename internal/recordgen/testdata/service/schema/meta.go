package schema

// Meta as service/schema declares it.
type Meta struct {
	V int `json:"v"`
}

// notMeta is not read.
type notMeta struct {
	X float64
}
