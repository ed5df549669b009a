package org.rnn4j.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * The character model's progress: step, loss, the last validation loss in bits per character, characters per second
 * and time left. On a terminal, one line redrawn in place (at most ten times a second) and a line kept for every
 * validation; otherwise plain lines: the first update, every validation, the last update, and one every 10 s between.
 * Silent when quiet.
 */
final class CharLmProgress {

    private static final long REDRAW_NANOS = 100_000_000L;
    private static final long PLAIN_NANOS = 10_000_000_000L;

    private final PrintWriter out;
    private final boolean terminal;
    private final boolean quiet;
    private final long first;
    private final long total;
    private final long charsPerUpdate;
    private final long start = System.nanoTime();
    private long lastLine = start;
    private long updateNanos;
    private double valBits = Double.NaN;
    private boolean drawn;

    CharLmProgress(PrintWriter out, boolean terminal, boolean quiet, long first, long total, long charsPerUpdate) {
        this.out = out;
        this.terminal = terminal;
        this.quiet = quiet;
        this.first = first;
        this.total = total;
        this.charsPerUpdate = charsPerUpdate;
    }

    /** Time spent in updates so far, for characters per second. */
    void addUpdateNanos(long nanos) {
        updateNanos += nanos;
    }

    /** @return training characters per second over this run's updates */
    double charsPerSecond(long step) {
        return updateNanos == 0 ? 0 : (step - first) * (double) charsPerUpdate / (updateNanos / 1e9);
    }

    /**
     * Update {@code step} (1-based) is done.
     *
     * @param validationLoss its validation loss in nats, or NaN when it did not validate
     */
    void update(long step, double loss, double validationLoss) {
        boolean validated = !Double.isNaN(validationLoss);
        if (validated) {
            valBits = validationLoss / Math.log(2);
        }
        if (quiet) {
            return;
        }
        long now = System.nanoTime();
        String line = line(step, loss, now);
        if (terminal) {
            if (validated || step == total) {
                out.print("\r" + line + "\u001b[K\n");
                drawn = false;
                lastLine = now;
            } else if (now - lastLine >= REDRAW_NANOS) {
                out.print("\r" + line + "\u001b[K");
                drawn = true;
                lastLine = now;
            }
            out.flush();
        } else if (validated || step == total || step == first + 1 || now - lastLine >= PLAIN_NANOS) {
            out.println(line);
            out.flush();
            lastLine = now;
        }
    }

    private String line(long step, double loss, long now) {
        double elapsed = (now - start) / 1e9;
        long done = step - first;
        double left = done == 0 ? 0 : elapsed / done * (total - step);
        return String.format(Locale.ROOT, "step %" + digits() + "d/%d  loss %.4f  val %s  %,.0f chars/s  %s left",
                step, total, loss, Double.isNaN(valBits) ? "-" : String.format(Locale.ROOT, "%.4f bits/char", valBits),
                charsPerSecond(step), duration(left));
    }

    /** Ends a line being redrawn, before other output. */
    void breakLine() {
        if (drawn && !quiet) {
            out.println();
            out.flush();
            drawn = false;
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }

    private int digits() {
        return Long.toString(total).length();
    }
}
