package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Size is a byte count written as an integer or with a unit:
// 65536, "64KiB", "1MiB", "2GiB", "10MB".
type Size uint64

// UnmarshalText parses "64KiB"-style sizes.
func (s *Size) UnmarshalText(b []byte) error {
	str := strings.TrimSpace(string(b))
	units := []struct {
		suffix string
		mult   uint64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	mult := uint64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(str, u.suffix); ok {
			str, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(str, 10, 64)
	if err != nil || (mult > 1 && n > (1<<63)/mult) {
		return fmt.Errorf("invalid size %q: use a number of bytes or a unit such as 64KiB, 16MiB, 1GiB", string(b))
	}
	*s = Size(n * mult)
	return nil
}

func (s Size) String() string { return strconv.FormatUint(uint64(s), 10) }

// FileMode is a permission mode written as an octal string ("0660").
// YAML reads an unquoted 0660 as the number 432 already, which also works.
type FileMode uint32

// UnmarshalText parses an octal mode.
func (m *FileMode) UnmarshalText(b []byte) error {
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 8, 32)
	if err != nil || n > 0o7777 {
		return fmt.Errorf("invalid mode %q: write an octal mode such as \"0660\"", string(b))
	}
	*m = FileMode(n)
	return nil
}

// Perm returns the mode as an os.FileMode.
func (m FileMode) Perm() os.FileMode { return os.FileMode(m) & os.ModePerm }

func (m FileMode) String() string { return fmt.Sprintf("%04o", uint32(m)) }
