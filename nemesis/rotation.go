package nemesis

import "math/rand/v2"

// nextKind draws the kind of the next fault. Kinds come in rounds, each a
// seeded shuffle of every chosen kind, so that every kind happens once
// before any happens twice: with --nemesis all, five faults are all five
// kinds, where independent draws would repeat some and skip others.
func (s *schedule) nextKind(r *rand.Rand) string {
	if len(s.kinds) == 1 {
		// The draw a single kind always made, so that its seeds keep the
		// schedules they gave before rounds existed.
		return s.kinds[r.IntN(1)]
	}
	if len(s.round) == 0 {
		for _, i := range r.Perm(len(s.kinds)) {
			s.round = append(s.round, s.kinds[i])
		}
	}
	k := s.round[0]
	s.round = s.round[1:]
	return k
}

// Kinds returns the kinds of fault the schedule starts, in catalogue
// order, so that a run can say which of them never happened.
func (s *schedule) Kinds() []string { return append([]string(nil), s.kinds...) }
