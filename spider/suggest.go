package spider

import "strings"

// Suggest returns the word in valid closest to s, for "did you mean"
// messages about names the spider file shares with other parts of crawl
// (settings that are flags); "" when none is close.
func Suggest(s string, valid []string) string { return suggest(s, valid) }

// suggest returns the word in valid closest to s, for "did you mean"
// messages: one within two edits (and fewer than len(s)), or one that s is a prefix of or that is a
// prefix of s. It returns "" when none is close. Case is ignored.
func suggest(s string, valid []string) string {
	s = strings.ToLower(s)
	best, bestDist := "", 3
	for _, v := range valid {
		d := editDistance(s, v)
		if d >= len(s) {
			d = 3 // replacing every letter is no suggestion: "xy" is not near "to"
		}
		if d > 2 && len(s) >= 3 && (strings.HasPrefix(v, s) || strings.HasPrefix(s, v)) {
			d = 2 // as good as two edits, so that a nearer word still wins
		}
		if d < bestDist {
			best, bestDist = v, d
		}
	}
	return best
}

// editDistance returns the Levenshtein distance between a and b, counting
// bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
