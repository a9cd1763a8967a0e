# Reference values for survchurn's Cox model tests (tests/survival/test_cox*.py, test_metrics.py).
#
# Regenerate (from the repository root; needs R with the 'survival' package, Debian r-cran-survival):
#     Rscript tests/reference/cox_reference.R
# Inputs:  tests/reference/rossi_cox.csv (lifelines.datasets.load_rossi(), exported once).
# Outputs: tests/reference/cox_lung.csv, cox_heart.csv (data sets copied out of R's survival),
#          tests/reference/cox_values.csv (long format: model, stat, term, value),
#          tests/reference/cox_zph.csv, cox_survfit.csv.
# Written with survival 3.5-3.
suppressMessages(library(survival))
out_dir <- "tests/reference"
rossi <- read.csv(file.path(out_dir, "rossi_cox.csv"))

lung2 <- na.omit(survival::lung[, c("inst", "time", "status", "age", "sex", "ph.ecog")])
lung2$event <- lung2$status - 1L
lung2$status <- NULL
write.csv(lung2, file.path(out_dir, "cox_lung.csv"), row.names = FALSE)
heart2 <- survival::heart
heart2$transplant <- as.integer(as.character(heart2$transplant))
write.csv(heart2, file.path(out_dir, "cox_heart.csv"), row.names = FALSE)

rows <- list()
add <- function(model, stat, term, value) {
  rows[[length(rows) + 1]] <<- data.frame(model = model, stat = stat, term = term,
                                          value = as.numeric(value))
}
save_fit <- function(model, fit) {
  s <- summary(fit)
  cf <- coef(fit)
  add(model, "coef", names(cf), cf)
  add(model, "se", names(cf), sqrt(diag(fit$var)))
  if (!is.null(fit$naive.var)) add(model, "naive_se", names(cf), sqrt(diag(fit$naive.var)))
  add(model, "loglik_null", "", fit$loglik[1])
  add(model, "loglik", "", fit$loglik[2])
  add(model, "n", "", fit$n)
  add(model, "nevent", "", fit$nevent)
  add(model, "lr_test", "", s$logtest["test"])
  add(model, "lr_df", "", s$logtest["df"])
  add(model, "wald_test", "", fit$wald.test)
  add(model, "score_test", "", s$sctest["test"])
  if (!is.null(fit$rscore)) add(model, "robust_score_test", "", fit$rscore)
  add(model, "concordance", "", fit$concordance["concordance"])
  add(model, "concordance_std", "", fit$concordance["std"])
  cc <- concordance(fit)
  add(model, "concordance_var", "", cc$var)
  cnt <- if (is.matrix(cc$count)) colSums(cc$count) else cc$count
  add(model, "count", names(cnt), cnt)
  add(model, "aic", "", AIC(fit))
}

covs <- "fin + age + race + wexp + mar + paro + prio"
f_rossi <- as.formula(paste("Surv(week, arrest) ~", covs))
fit_efron <- coxph(f_rossi, data = rossi, ties = "efron")
fit_breslow <- coxph(f_rossi, data = rossi, ties = "breslow")
fit_robust <- coxph(f_rossi, data = rossi, robust = TRUE)
save_fit("rossi_efron", fit_efron)
save_fit("rossi_breslow", fit_breslow)
save_fit("rossi_robust", fit_robust)

# penalised: ridge with theta = 1 on unscaled covariates: maximises loglik - theta/2 * sum(beta^2)
fit_ridge <- coxph(Surv(week, arrest) ~ ridge(fin, age, race, wexp, mar, paro, prio,
                                              theta = 1, scale = FALSE), data = rossi)
cf <- coef(fit_ridge)
terms_r <- c("fin", "age", "race", "wexp", "mar", "paro", "prio")
add("rossi_ridge1", "coef", terms_r, cf)
add("rossi_ridge1", "se", terms_r, sqrt(diag(fit_ridge$var)))
add("rossi_ridge1", "se2", terms_r, sqrt(diag(fit_ridge$var2)))
add("rossi_ridge1", "loglik", "", fit_ridge$loglik[2])

# LASSO and elastic net: glmnet (Breslow ties) minimises -loglik/n + lambda * ((1 - alpha)/2
# ||b||^2 + alpha ||b||_1): CoxPH(ties="breslow", penalty=lambda * n, l1_ratio=alpha)
if (requireNamespace("glmnet", quietly = TRUE)) {
  xg <- as.matrix(rossi[, c("fin", "age", "race", "wexp", "mar", "paro", "prio")])
  for (a in c(1, 0.5)) {
    g <- glmnet::glmnet(xg, Surv(rossi$week, rossi$arrest), family = "cox", alpha = a,
                        lambda = 0.02, standardize = FALSE, thresh = 1e-14, maxit = 1e6)
    add(paste0("rossi_glmnet_alpha", a), "coef", colnames(xg), as.numeric(coef(g)))
  }
}

# lung: ph.ecog as a factor (reference level 0), stratified on sex, cluster on institution
lung2$ph.ecog <- factor(lung2$ph.ecog)
fit_lung <- coxph(Surv(time, event) ~ age + ph.ecog + strata(sex), data = lung2)
save_fit("lung_strata", fit_lung)
fit_lung_cl <- coxph(Surv(time, event) ~ age + ph.ecog + sex, data = lung2, cluster = inst)
save_fit("lung_cluster", fit_lung_cl)

# Stanford heart transplant: counting-process (start, stop] data, cluster on patient id
fit_heart <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = heart2)
save_fit("heart", fit_heart)
fit_heart_cl <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant,
                      data = heart2, cluster = id)
save_fit("heart_cluster", fit_heart_cl)
fit_heart_b <- coxph(Surv(start, stop, event) ~ age + year + surgery + transplant,
                     data = heart2, ties = "breslow")
save_fit("heart_breslow", fit_heart_b)

# late entry + strata, one stratum without events. cox_entry_strata.csv was simulated once in
# Python (numpy default_rng(0): 300 rows, durations 1..49, entry = floor(duration * U(0, 0.9)))
es <- read.csv(file.path(out_dir, "cox_entry_strata.csv"))
fit_es <- coxph(Surv(entry, duration, event) ~ x + strata(g), data = es)
save_fit("entry_strata", fit_es)

write.csv(do.call(rbind, rows), file.path(out_dir, "cox_values.csv"), row.names = FALSE)

# cox.zph (survival 3.x score test)
zrows <- list()
zadd <- function(model, transform, z) {
  tb <- z$table
  zrows[[length(zrows) + 1]] <<- data.frame(model = model, transform = transform,
    term = rownames(tb), chisq = tb[, "chisq"], df = tb[, "df"], p = tb[, "p"])
}
for (tr in c("km", "identity", "rank", "log")) zadd("rossi_efron", tr, cox.zph(fit_efron, transform = tr))
zadd("rossi_breslow", "km", cox.zph(fit_breslow, transform = "km"))
zadd("lung_strata", "km", cox.zph(fit_lung, transform = "km"))
zadd("heart", "identity", cox.zph(fit_heart, transform = "identity"))
zadd("entry_strata", "km", cox.zph(fit_es, transform = "km"))
write.csv(do.call(rbind, zrows), file.path(out_dir, "cox_zph.csv"), row.names = FALSE)
z <- cox.zph(fit_efron, transform = "km")
write.csv(data.frame(x = z$x, time = z$time, z$y), file.path(out_dir, "cox_zph_resid.csv"),
          row.names = FALSE)

# survfit.coxph for one new customer (Efron fit -> Efron-type hazard; Breslow fit -> Breslow)
nd <- data.frame(fin = 1, age = 25, race = 0, wexp = 1, mar = 0, paro = 1, prio = 2)
sf_rows <- list()
for (m in c("efron", "breslow")) {
  fit <- if (m == "efron") fit_efron else fit_breslow
  sf <- survfit(fit, newdata = nd)
  sf_rows[[m]] <- data.frame(model = paste0("rossi_", m), time = sf$time, surv = sf$surv,
                             cumhaz = sf$cumhaz, std_err = sf$std.err)
}
write.csv(do.call(rbind, sf_rows), file.path(out_dir, "cox_survfit.csv"), row.names = FALSE)

# linear predictors and basehaz(centered = TRUE): survival 3.x centres continuous covariates at
# their means and 0/1 covariates at 0 (fit$means)
bh <- basehaz(fit_efron, centered = TRUE)
write.csv(data.frame(time = bh$time, hazard = bh$hazard), file.path(out_dir, "cox_basehaz.csv"),
          row.names = FALSE)
write.csv(data.frame(lp = fit_efron$linear.predictors, lp_lung = NA)[1:20, 1, drop = FALSE],
          file.path(out_dir, "cox_lp.csv"), row.names = FALSE)
cat("done\n")
