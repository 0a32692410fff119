"""From answers to an assessment: the method, its fast engine, the warning signs."""
