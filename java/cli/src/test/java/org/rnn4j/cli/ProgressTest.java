package org.rnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** Progress on a terminal is one bar redrawn in place; elsewhere one line per report; nothing when quiet. */
class ProgressTest {

    private static String drive(boolean terminal, boolean quiet) {
        StringWriter text = new StringWriter();
        Progress p = new Progress(new PrintWriter(text), terminal, quiet, 20, "loss");
        for (int i = 0; i < 20; i++) {
            if (i % 10 == 0) {
                p.report(i, 1.0 / (i + 1), "detail " + i);
            }
            p.iterationDone(i);
        }
        p.finish();
        return text.toString();
    }

    @Test
    void terminalGetsABarWithIterationLossAndRate() {
        String out = drive(true, false);
        assertTrue(out.startsWith("\r["), out);
        assertTrue(out.contains("iter 20/20"), out);
        assertTrue(out.contains("100%"), out);
        assertTrue(out.contains("loss 0.09091"), "last reported loss: " + out);
        assertTrue(out.contains(" it/s"), out);
        assertTrue(out.endsWith("\n"), "the bar's line is ended");
        assertEquals(1, out.split("\n", -1).length - 1, "everything on one line, redrawn with \\r");
    }

    @Test
    void plainOutputGetsOneLinePerReport() {
        String out = drive(false, false);
        String[] lines = out.split("\n");
        assertEquals(2, lines.length, out);
        assertTrue(lines[0].startsWith("iter  0  loss 1.00000"), lines[0]);
        assertTrue(lines[1].startsWith("iter 10  loss 0.0909091"), lines[1]);
        assertTrue(lines[1].endsWith("detail 10"), lines[1]);
        assertFalse(out.contains("\r"));
    }

    @Test
    void quietPrintsNothing() {
        assertEquals("", drive(true, true));
        assertEquals("", drive(false, true));
    }
}
