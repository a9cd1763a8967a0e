# Reference values for survchurn.scoring (logistic, LASSO, stepwise).
#
# Regenerate (from the repository root, needs Debian's r-cran-glmnet and r-cran-mass):
#     Rscript tests/reference/scoring_reference.R
# Writes tests/reference/scoring_*.csv. The test suite reads these files and never calls R.
# R 4.x, glmnet 4.1-6, MASS 7.3.
suppressPackageStartupMessages({library(glmnet); library(MASS)})
out <- function(name) file.path("tests", "reference", name)

# ---- a fixed synthetic churn dataset: 2000 rows, 10 numeric + 2 categorical predictors ----
set.seed(20261123)
n <- 2000
d <- data.frame(
  x1 = rnorm(n), x2 = rnorm(n), x3 = rnorm(n), x4 = rnorm(n), x5 = rnorm(n),
  x6 = rnorm(n), x7 = rnorm(n), x8 = rexp(n), x9 = runif(n), x10 = rnorm(n),
  region = sample(c("north", "south", "west"), n, replace = TRUE),
  plan = sample(c("basic", "gold", "plus", "pro"), n, replace = TRUE, prob = c(.4, .2, .2, .2))
)
eta <- -1 + 0.8 * d$x1 - 0.6 * d$x2 + 0.4 * d$x3 + 0.15 * d$x4 + 0.5 * (d$x8 - 1) +
  c(basic = 0, gold = -0.7, plus = 0.1, pro = 0.5)[d$plan]
d$churn <- rbinom(n, 1, plogis(eta))
d$foldid <- sample(rep(1:10, length.out = n))
d$x1 <- round(d$x1, 6); d$x2 <- round(d$x2, 6); d$x3 <- round(d$x3, 6); d$x4 <- round(d$x4, 6)
d$x5 <- round(d$x5, 6); d$x6 <- round(d$x6, 6); d$x7 <- round(d$x7, 6); d$x8 <- round(d$x8, 6)
d$x9 <- round(d$x9, 6); d$x10 <- round(d$x10, 6)
write.csv(d, out("scoring_data.csv"), row.names = FALSE)
d <- read.csv(out("scoring_data.csv"))  # fit on exactly what was written
d$region <- factor(d$region); d$plan <- factor(d$plan)

# ---- full logistic regression ----
form <- churn ~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + region + plan
full <- glm(form, data = d, family = binomial)
cf <- summary(full)$coefficients
write.csv(data.frame(term = rownames(cf), estimate = cf[, 1], se = cf[, 2],
                     loglik = as.numeric(logLik(full)), aic = AIC(full)),
          out("scoring_glm.csv"), row.names = FALSE)

# ---- glmnet: LASSO (alpha = 1), standardize = TRUE (default) ----
x <- model.matrix(form, d)[, -1]
y <- d$churn
fit0 <- glmnet(x, y, family = "binomial", alpha = 1, thresh = 1e-14, maxit = 1e6)
grid <- fit0$lambda[c(2, 5, 10, 20, 30, 40)]
fit <- glmnet(x, y, family = "binomial", alpha = 1, lambda = grid, thresh = 1e-14, maxit = 1e6)
B <- as.matrix(coef(fit))
write.csv(data.frame(term = rownames(B), B, check.names = FALSE),
          out("scoring_glmnet_coef.csv"), row.names = FALSE)
write.csv(data.frame(lambda = grid), out("scoring_glmnet_grid.csv"), row.names = FALSE)
write.csv(data.frame(lambda = fit0$lambda, dev_ratio = fit0$dev.ratio, df = fit0$df),
          out("scoring_glmnet_path.csv"), row.names = FALSE)
cv <- cv.glmnet(x, y, family = "binomial", alpha = 1, foldid = d$foldid,
                type.measure = "deviance", thresh = 1e-14, maxit = 1e6)
write.csv(data.frame(lambda = cv$lambda, cvm = cv$cvm, cvsd = cv$cvsd,
                     lambda_min = cv$lambda.min, lambda_1se = cv$lambda.1se),
          out("scoring_cvglmnet.csv"), row.names = FALSE)

# ---- MASS::stepAIC from the full model, k = 2 ----
for (dir in c("both", "backward")) {
  s <- stepAIC(full, direction = dir, k = 2, trace = 0)
  a <- s$anova
  write.csv(data.frame(step = as.character(a$Step), df = a$Df, deviance = a$Deviance,
                       resid_df = a[["Resid. Df"]], resid_dev = a[["Resid. Dev"]], aic = a$AIC,
                       final = paste(attr(terms(s), "term.labels"), collapse = "+")),
            out(sprintf("scoring_stepaic_%s.csv", dir)), row.names = FALSE)
}
