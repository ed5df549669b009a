package org.rnn4j.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Shows a training run's progress: on a terminal, one progress bar redrawn in place (iteration, last loss, rate);
 * otherwise one plain line per report. Silent when quiet.
 */
final class Progress {

    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int BAR_WIDTH = 28;

    private final PrintWriter out;
    private final boolean terminal;
    private final boolean quiet;
    private final int total;
    private final String lossName;
    private final long start = System.nanoTime();
    private long lastDraw;
    private int done;
    private double lastLoss = Double.NaN;

    Progress(PrintWriter out, boolean terminal, boolean quiet, int total, String lossName) {
        this.out = out;
        this.terminal = terminal;
        this.quiet = quiet;
        this.total = total;
        this.lossName = lossName;
    }

    /** Iteration {@code iteration} (0-based) is done; cheap unless a redraw is due. */
    void iterationDone(int iteration) {
        done = iteration + 1;
        if (terminal && !quiet) {
            long now = System.nanoTime();
            if (now - lastDraw >= REDRAW_NANOS || done == total) {
                lastDraw = now;
                draw();
            }
        }
    }

    /** A reported iteration: its loss, and a short detail for the plain line. */
    void report(int iteration, double loss, String detail) {
        lastLoss = loss;
        if (quiet) {
            return;
        }
        if (terminal) {
            draw();
        } else {
            out.printf(Locale.ROOT, "iter %" + digits() + "d  %s %-12.6g  %s%n", iteration, lossName, loss, detail);
        }
    }

    /** Ends the bar's line. */
    void finish() {
        if (terminal && !quiet) {
            draw();
            out.println();
        }
        out.flush();
    }

    private void draw() {
        int filled = (int) ((long) BAR_WIDTH * done / total);
        double seconds = (System.nanoTime() - start) / 1e9;
        String bar = "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled);
        out.printf(Locale.ROOT, "\r[%s] %3d%%  iter %" + digits() + "d/%d  %s %-10.4g  %,.0f it/s ", bar,
                100L * done / total, done, total, lossName, lastLoss, seconds > 0 ? done / seconds : 0.0);
        out.flush();
    }

    private int digits() {
        return Integer.toString(total).length();
    }
}
