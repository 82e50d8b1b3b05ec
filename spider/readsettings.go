package spider

import (
	"go.yaml.in/yaml/v3"
)

// ReadSettings returns the settings of a spider file that Parse rejects
// for other problems, so that a command can report the problems with its
// settings (which only the command can check) at the same time. It
// returns what it can read, and nothing for a file that is not YAML or
// too big to be a spider.
func ReadSettings(filename string, data []byte) []Setting {
	if len(data) > MaxFileSize {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "settings" {
			return newCompiler(filename).settings(resolve(root.Content[i+1]))
		}
	}
	return nil
}
