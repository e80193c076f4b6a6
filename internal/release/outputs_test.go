package release

import (
	"fmt"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// ActionOutputs reads the step's GITHUB_OUTPUT file as the runner does and
// returns the action's outputs, each evaluated from action.yml's value
// expression as a workflow sees them (steps.<id>.outputs.<name>).
func (a *Action) ActionOutputs(githubOutput string) (map[string]string, error) {
	pairs, err := ghsim.ParseFileCommands(githubOutput)
	if err != nil {
		return nil, err
	}
	stepOut := map[string]string{}
	for _, p := range pairs {
		stepOut[p[0]] = p[1]
	}
	contexts := map[string]map[string]string{"steps." + a.Step.ID + ".outputs": stepOut}
	outs := map[string]string{}
	for n, v := range a.Outputs {
		ev, err := eval(v, contexts)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", n, err)
		}
		outs[n] = ev
	}
	return outs, nil
}

// FailFirst makes the next n download requests answer 503, a transient
// failure a client should retry.
func (s *Server) FailFirst(n int) {
	s.mu.Lock()
	s.failFirst = n
	s.mu.Unlock()
}
