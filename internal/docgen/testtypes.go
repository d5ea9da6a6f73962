package docgen

import (
	"time"

	"github.com/alertgw/alertgw/config"
)

// testOptions and testInner are the options struct of docgen's own test:
// the generator reads comments from non-test files only.
type testOptions struct {
	// Name is what it is called.
	Name string `mapstructure:"name"`
	// Limit is the most it takes.
	Limit config.Size   `mapstructure:"limit"`
	Every time.Duration `mapstructure:"every"` // how often.
	// Inner groups.
	Inner testInner `mapstructure:"inner"`
	// List has several.
	List []struct {
		// N is a number.
		N int `mapstructure:"n"`
	} `mapstructure:"list"`
}

type testInner struct {
	// On turns it on.
	On bool `mapstructure:"on"`
}
