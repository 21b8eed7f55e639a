package service

import (
	"time"

	sch "example.com/svc/service/schema"
)

// widgetRecord has one field of every supported kind, with and without
// omitempty.
type widgetRecord struct {
	sch.Meta
	Name     string            `json:"name"`
	Note     string            `json:"note,omitempty"`
	Count    int               `json:"count"`
	Spare    int               `json:"spare,omitempty"`
	On       bool              `json:"on"`
	Off      bool              `json:"off,omitempty"`
	Created  time.Time         `json:"created"`
	Updated  time.Time         `json:"updated,omitempty"`
	Deleted  *time.Time        `json:"deleted"`
	Expires  *time.Time        `json:"expires,omitempty"`
	Labels   []string          `json:"labels"`
	Aliases  []string          `json:"aliases,omitempty"`
	Parts    []partRecord      `json:"parts"`
	Extras   []partRecord      `json:"extras,omitempty"`
	Values   map[string]string `json:"values"`
	Options  map[string]string `json:"options,omitempty"`
	Untagged string
	Skipped  string `json:"-"`
	Dash     string `json:"-,"`
	unstored string
	A, B     int
}

func (r *widgetRecord) RecordName() string { return r.Name }

// partRecord is held by widgetRecord.
type partRecord struct {
	ID    string     `json:"id"`
	Sub   []subPart  `json:"sub,omitempty"`
	Taken *time.Time `json:"taken,omitempty"`
}

type subPart struct {
	Key string `json:"key"`
}

// emptyRecord has only Meta.
type emptyRecord struct {
	sch.Meta
}

// notARecord does not embed Meta and is not referenced.
type notARecord struct {
	Weird chan int
}
