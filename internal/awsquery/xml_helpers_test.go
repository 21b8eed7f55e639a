package awsquery

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
)

// checkWellFormed reads b to the end with encoding/xml, which refuses malformed markup and
// characters outside XML 1.0's Char production.
func checkWellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if depth != 0 || roots != 1 {
				return errors.New("not exactly one complete root element")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

// parseTagList returns the Key and Value texts of a ListTagsForResource response, in order.
func parseTagList(b []byte) ([]string, error) {
	var resp struct {
		Tags []struct {
			Key   string `xml:"Key"`
			Value string `xml:"Value"`
		} `xml:"ListTagsForResourceResult>TagList>Tag"`
	}
	if err := xml.Unmarshal(b, &resp); err != nil {
		return nil, err
	}
	var out []string
	for _, t := range resp.Tags {
		out = append(out, t.Key, t.Value)
	}
	return out, nil
}
