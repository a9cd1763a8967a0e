# Reference values for survchurn's Kaplan-Meier, Nelson-Aalen and log-rank tests.
#
# Regenerate (from the repository root; needs R with survival 3.5-3 and jsonlite-free base R):
#   python -c "import lifelines.datasets as d; d.load_rossi().to_csv('tests/reference/rossi.csv', index=False)"
#   Rscript tests/reference/km_logrank.R
# Reads tests/reference/rossi.csv (exported from lifelines first) and writes
#   tests/reference/lung.csv, km_lateentry.csv (inputs) and
#   km_curves.csv, km_at.csv, km_quantiles.csv, km_print.csv, km_logrank.csv,
#   km_logrank_var.csv, km_trend.csv, km_pairwise.csv (outputs).
# The test suite reads these files and never calls R.
suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") == "3.5.3")
out <- "tests/reference"
options(digits = 15)
wcsv <- function(x, name) write.csv(x, file.path(out, name), row.names = FALSE, na = "NA")

# ---- data sets --------------------------------------------------------------------------
lung <- survival::lung
wcsv(lung, "lung.csv")
lung$event <- lung$status - 1
lung_ecog <- lung[!is.na(lung$ph.ecog), ]

rossi <- read.csv(file.path(out, "rossi.csv"))
rossi$prio_grp <- pmin(rossi$prio, 3)

# (c) small data with late entry (tstart) and heavy ties; group C ends with events so S hits 0
set.seed(20261123)
n <- 45
le <- data.frame(
  id = seq_len(n),
  grp = rep(c("A", "B", "C"), length.out = n),
  tstart = sample(c(0, 0, 0, 1, 2, 3), n, replace = TRUE)
)
le$tstop <- le$tstart + sample(1:6, n, replace = TRUE)
le$event <- rbinom(n, 1, 0.6)
le <- rbind(le, data.frame(id = n + 1:3, grp = "C", tstart = c(0, 2, 5), tstop = c(12, 12, 12),
                           event = c(1, 1, 1)))
wcsv(le, "km_lateentry.csv")

cases <- list(
  list(dataset = "lung", data = lung, time = "time", group = NULL, entry = NULL, tau = 365),
  list(dataset = "lung", data = lung, time = "time", group = "sex", entry = NULL, tau = 365),
  list(dataset = "lung", data = lung_ecog, time = "time", group = "ph.ecog", entry = NULL, tau = 365),
  list(dataset = "rossi", data = rossi, time = "week", group = NULL, entry = NULL, tau = 40),
  list(dataset = "rossi", data = rossi, time = "week", group = "fin", entry = NULL, tau = 40),
  list(dataset = "rossi", data = rossi, time = "week", group = "prio_grp", entry = NULL, tau = 40),
  list(dataset = "lateentry", data = le, time = "tstop", group = "grp", entry = "tstart", tau = 6),
  list(dataset = "lateentry", data = le, time = "tstop", group = "grp", entry = NULL, tau = 6)
)
event_of <- function(case) if (case$dataset == "rossi") "arrest" else "event"
case_key <- function(case) paste(case$dataset, if (is.null(case$group)) "none" else case$group,
                                 if (is.null(case$entry)) "noentry" else "entry", sep = "/")

fit_case <- function(case, conf.type) {
  d <- case$data
  ev <- d[[event_of(case)]]
  y <- if (is.null(case$entry)) Surv(d[[case$time]], ev) else Surv(d[[case$entry]], d[[case$time]], ev)
  g <- if (is.null(case$group)) rep("all", nrow(d)) else d[[case$group]]
  survfit(y ~ g, conf.type = conf.type, conf.int = 0.95)
}
strata_of <- function(fit) {
  if (is.null(fit$strata)) return(rep("all", length(fit$time)))
  rep(sub("^g=", "", names(fit$strata)), fit$strata)
}

curves <- list(); at <- list(); quants <- list(); prints <- list()
for (case in cases) {
  key <- case_key(case)
  fits <- lapply(c("log", "log-log", "plain"), function(ct) fit_case(case, ct))
  names(fits) <- c("log", "log-log", "plain")
  f <- fits[["log"]]
  curves[[key]] <- data.frame(
    case = key, group = strata_of(f), time = f$time, n_risk = f$n.risk, n_event = f$n.event,
    n_censor = f$n.censor, surv = f$surv, std_err_cumhaz = f$std.err,
    std_err = summary(f, censored = TRUE)$std.err,
    lower_log = f$lower, upper_log = f$upper,
    lower_loglog = fits[["log-log"]]$lower, upper_loglog = fits[["log-log"]]$upper,
    lower_plain = fits[["plain"]]$lower, upper_plain = fits[["plain"]]$upper,
    cumhaz = f$cumhaz, std_chaz = f$std.chaz)
  for (ct in names(fits)) {
    fc <- fits[[ct]]
    s <- summary(fc, times = c(0.5, 3, 30, 90, 180, 365), extend = FALSE)
    grp <- if (is.null(s$strata)) rep("all", length(s$time)) else sub("^g=", "", as.character(s$strata))
    at[[paste(key, ct)]] <- data.frame(case = key, conf_type = ct, group = grp, time = s$time,
                                       n_risk = s$n.risk, surv = s$surv, std_err = s$std.err,
                                       lower = s$lower, upper = s$upper)
    q <- quantile(fc, probs = c(0.25, 0.5, 0.75))
    gq <- if (is.null(fc$strata)) "all" else sub("^g=", "", names(fc$strata))
    for (j in seq_along(c(0.25, 0.5, 0.75))) {
      qq <- function(m) if (is.matrix(m)) m[, j] else m[j]
      quants[[paste(key, ct, j)]] <- data.frame(case = key, conf_type = ct, group = gq,
        prob = c(0.25, 0.5, 0.75)[j], time = qq(q$quantile), lower = qq(q$lower), upper = qq(q$upper))
    }
    sm <- survival:::survmean(fc, rmean = case$tau)$matrix
    if (!is.matrix(sm)) sm <- matrix(sm, nrow = 1, dimnames = list(NULL, names(sm)))
    prints[[paste(key, ct)]] <- data.frame(case = key, conf_type = ct, group = gq, tau = case$tau,
      n = sm[, "records"], events = sm[, "events"], rmean = sm[, "rmean"],
      se_rmean = sm[, "se(rmean)"], median = sm[, "median"], median_lower = sm[, "0.95LCL"],
      median_upper = sm[, "0.95UCL"])
  }
}
wcsv(do.call(rbind, curves), "km_curves.csv")
wcsv(do.call(rbind, at), "km_at.csv")
wcsv(do.call(rbind, quants), "km_quantiles.csv")
wcsv(do.call(rbind, prints), "km_print.csv")

# ---- log-rank (G-rho) ------------------------------------------------------------------
# survdiff only accepts right-censored data. For late entry the same G-rho statistic is computed
# by hand below from counting-process risk sets (weights: pooled left-continuous KM ^ rho, as
# survdiff's C code survdiff2 does); on right-censored data hand == survdiff is checked here.
grho_hand <- function(start, stop, event, g, rho) {
  lv <- sort(unique(g)); k <- length(lv)
  times <- sort(unique(stop[event == 1]))
  O <- E <- rep(0, k); V <- matrix(0, k, k); km <- 1
  for (t in times) {
    atrisk <- start < t & stop >= t
    nr <- sapply(lv, function(l) sum(atrisk & g == l))
    dd <- sapply(lv, function(l) sum(stop == t & event == 1 & g == l))
    N <- sum(nr); D <- sum(dd); w <- km^rho
    O <- O + w * dd; E <- E + w * D * nr / N
    if (N > 1) V <- V + w^2 * D * (N - D) / (N - 1) * (diag(nr / N, k) - outer(nr / N, nr / N))
    km <- km * (1 - D / N)
  }
  keep <- E > 0
  u <- (O - E)[keep][-1]; vv <- V[keep, keep][-1, -1, drop = FALSE]
  list(obs = O, exp = E, var = V, chisq = sum(solve(vv, u) * u), df = sum(keep) - 1, levels = lv)
}

lr <- list(); lrv <- list(); tr <- list(); pw <- list()
lr_cases <- Filter(function(case) !is.null(case$group), cases)
for (case in lr_cases) {
  key <- case_key(case)
  d <- case$data; ev <- d[[event_of(case)]]; g <- d[[case$group]]
  for (rho in c(0, 1)) {
    if (is.null(case$entry)) {
      sd <- survdiff(Surv(d[[case$time]], ev) ~ g, rho = rho)
      lv <- sub("^g=", "", names(sd$n))
      res <- list(obs = sd$obs, exp = sd$exp, var = sd$var, chisq = sd$chisq,
                  df = sum(sd$exp > 0) - 1, levels = lv)
      hand <- grho_hand(rep(-Inf, nrow(d)), d[[case$time]], ev, g, rho)
      stopifnot(abs(hand$chisq - sd$chisq) < 1e-9, max(abs(hand$var - sd$var)) < 1e-9)
    } else {
      res <- grho_hand(d[[case$entry]], d[[case$time]], ev, g, rho)
    }
    p <- pchisq(res$chisq, res$df, lower.tail = FALSE)
    lr[[paste(key, rho)]] <- data.frame(case = key, rho = rho, group = as.character(res$levels),
      observed = res$obs, expected = res$exp, chisq = res$chisq, df = res$df, p_value = p)
    vv <- res$var; dimnames(vv) <- list(res$levels, res$levels)
    lrv[[paste(key, rho)]] <- data.frame(case = key, rho = rho, row = rep(res$levels, each = length(res$levels)),
      col = rep(res$levels, length(res$levels)), var = as.vector(t(vv)))
    # trend test over ordered groups with scores = the numeric group values (or 1..k for text),
    # as Stata's sts test, trend and survMisc::comp: U = s'(O - E), V = s' V s, chi2 = U^2 / V, 1 df
    s <- suppressWarnings(as.numeric(as.character(res$levels)))
    if (any(is.na(s))) s <- seq_along(res$levels)
    U <- sum(s * (res$obs - res$exp)); Vt <- as.numeric(t(s) %*% res$var %*% s)
    tr[[paste(key, rho)]] <- data.frame(case = key, rho = rho, U = U, var = Vt, chisq = U^2 / Vt,
      p_value = pchisq(U^2 / Vt, 1, lower.tail = FALSE))
    # pairwise comparisons as survminer::pairwise_survdiff: survdiff on each pair of levels, then
    # p.adjust over all pairs
    if (is.null(case$entry)) {
      lv <- res$levels; pairs <- NULL
      for (i in 2:length(lv)) for (j in 1:(i - 1)) {
        sub <- g %in% c(lv[i], lv[j])
        sd2 <- survdiff(Surv(d[[case$time]][sub], ev[sub]) ~ g[sub], rho = rho)
        pairs <- rbind(pairs, data.frame(group1 = as.character(lv[i]), group2 = as.character(lv[j]),
                                         chisq = sd2$chisq,
                                         p_value = pchisq(sd2$chisq, 1, lower.tail = FALSE)))
      }
      pairs$p_holm <- p.adjust(pairs$p_value, "holm")
      pairs$p_bh <- p.adjust(pairs$p_value, "BH")
      pw[[paste(key, rho)]] <- cbind(case = key, rho = rho, pairs)
    }
  }
}
wcsv(do.call(rbind, lr), "km_logrank.csv")
wcsv(do.call(rbind, lrv), "km_logrank_var.csv")
wcsv(do.call(rbind, tr), "km_trend.csv")
wcsv(do.call(rbind, pw), "km_pairwise.csv")
cat("done\n")
