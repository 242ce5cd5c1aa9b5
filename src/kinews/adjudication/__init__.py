"""Several annotators -> one gold record: agreement figures and adjudication."""
