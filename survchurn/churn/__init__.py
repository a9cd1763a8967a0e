"""churn stage."""
