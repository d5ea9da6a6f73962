// Package query is alertgw's one search language: the store and its HTTP
// API, per-output routing filters, mute rules and the console all use it.
//
//	kind:alert src_ip:10.0.0.0/8 -dest_port:[1 TO 1024] (signature.id:2001219 OR "ssh scan")
//
// Whitespace-separated terms are ANDed (AND binds tighter than OR); -term or
// NOT term negates; parentheses group; field:(a OR b) is short for
// field:a OR field:b. Field names are the native schema's dotted paths
// (Fields, plus any path under details.); an unknown field is an error
// naming the known ones. Values: exact (field:value, field:"quoted
// phrase"), '*' wildcards on strings (signature.name:ET*SSH*), field:* for
// "present", CIDR on addresses, comparisons and ranges on numbers, addresses
// and times (dest_port:>1024, dest_port:[1 TO 1024], { } exclusive). A bare
// word or "phrase" searches the event's text (AppendText), word* by prefix.
// docs/search.md is the user's reference.
//
// Parse turns text into a tree of Nodes that carry their byte positions;
// errors are *Error with the position. A parsed Query compiles two ways:
//
//   - (*Query).Matcher: in memory, Match(*normalize.Event) bool, no
//     allocation, tens of nanoseconds for a few field terms;
//   - (*Dialect).Where: a SQL condition for SQLite or PostgreSQL with every
//     value a parameter.
//
// Absent fields never match a term, so a negated term matches them: the
// matcher and the SQL agree on this (NOT compiles to "IS NOT TRUE").
package query
