"""Seeded synthetic dealership-like data with a known truth, for the scoring tests.

Truth: churn log-odds = -3.2 + 1.6 [months_since_visit > 12] + 1.1 [visits_12m == 0]
+ 1.3 [loan / price > 0.5] + 0.9 [car_age >= 8] + 0.8 [insurance == "none"]; region, mileage,
price and noise0..noise3 carry no signal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRUE_GROUPS = {"months_since_visit", "visits_12m", "loan_to_price", "car_age", "insurance"}


def dealership(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    months = rng.exponential(8, n)
    visits = rng.poisson(2.5, n)
    price = rng.lognormal(11.5, 0.4, n)
    loan = price * rng.beta(2, 3, n) * (rng.random(n) < 0.6)
    car_age = rng.integers(0, 12, n).astype(float)
    mileage = rng.normal(15000, 4000, n)
    region = rng.choice(["north", "south", "east", "west"], n)
    insurance = rng.choice(["own", "dealer", "none"], n, p=[0.5, 0.3, 0.2])
    noise = {f"noise{i}": rng.normal(size=n) for i in range(4)}
    eta = (-3.2 + 1.6 * (months > 12) + 1.1 * (visits == 0) + 1.3 * (loan / price > 0.5)
           + 0.9 * (car_age >= 8) + 0.8 * (insurance == "none"))
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    df = pd.DataFrame({"customer_id": np.arange(n), "months_since_visit": months, "visits_12m": visits,
                       "price": price, "loan": loan, "car_age": car_age, "mileage": mileage,
                       "region": region, "insurance": insurance, **noise})
    return df, y
