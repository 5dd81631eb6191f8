-- The 95% Wilson score interval of x successes in n (docs/METHODS.md 3), as statsmodels'
-- proportion_confint(method="wilson") computes it, clipped to 0..1; NULL when n = 0.
-- z = 1.959964, the 97.5% quantile of the standard normal distribution.
CREATE OR REPLACE TEMP MACRO wilson(x, n) AS
    CASE WHEN n > 0 THEN {
        'low': greatest(0.0, (x / n + 1.959964 ^ 2 / (2 * n)
            - 1.959964 * sqrt(x / n * (1 - x / n) / n + 1.959964 ^ 2 / (4 * n * n))) / (1 + 1.959964 ^ 2 / n)),
        'high': least(1.0, (x / n + 1.959964 ^ 2 / (2 * n)
            + 1.959964 * sqrt(x / n * (1 - x / n) / n + 1.959964 ^ 2 / (4 * n * n))) / (1 + 1.959964 ^ 2 / n))
    } END
