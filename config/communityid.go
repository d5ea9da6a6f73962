package config

// CommunityID configures the Community ID the gateway computes for events
// whose source gave none (Snort, Barnyard2, unified2, NFLOG, auditd, EVE
// records without community_id). Every tool of a site must hash with the
// same seed for the IDs to match: set it to Suricata's community-id-seed,
// Zeek's CommunityID::seed or Filebeat's community_id processor's seed.
type CommunityID struct {
	Seed int `mapstructure:"seed"` // 0 to 65535; the spec's default is 0
}

// Validate implements Validator.
func (c *CommunityID) Validate() Problems {
	var p Problems
	if c.Seed < 0 || c.Seed > 65535 {
		p.Add("seed", "must be between 0 and 65535 (a 16-bit seed, as in Suricata and Zeek); got %d", c.Seed)
	}
	return p
}

// InputCommon holds the keys every input block has besides its plugin's
// own options.
type InputCommon struct {
	// CommunityID, when set, overrides the gateway's community_id for
	// this input: for sensors that hash with a different seed.
	CommunityID *CommunityID `mapstructure:"community_id"`
}

// Validate implements Validator.
func (c *InputCommon) Validate() Problems {
	if c.CommunityID == nil {
		return nil
	}
	return c.CommunityID.Validate().Prefixed("community_id")
}

// CommunityIDSeed returns the seed an input hashes with: its own when its
// block sets one, the gateway's otherwise.
func (f *File) CommunityIDSeed(in InputCommon) uint16 {
	if in.CommunityID != nil {
		return uint16(in.CommunityID.Seed)
	}
	return uint16(f.CommunityID.Seed)
}
