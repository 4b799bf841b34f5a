"""Each resource type's shell: how it is listed, what its buttons do in AWS, how its tags are
written and how a lookup reads its creation time, one module per service. The registry's
declarations (bot/registry/patrol/) point at these functions; nothing here looks a type up."""
