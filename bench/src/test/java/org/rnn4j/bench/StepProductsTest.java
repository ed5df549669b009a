package org.rnn4j.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link StepProducts}, which torch_vs_rnn4j.py runs beside {@link LstmTiming}: on awkward small sizes (one step, so
 * no recurrent product; several steps) it runs every product and prints its one line with a positive time and a
 * rate consistent with it.
 */
class StepProductsTest {

    private static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            StepProducts.main(args);
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8).strip();
    }

    @Test
    void printsOneLineWithTheMedianAndRate() {
        for (String[] a : new String[][] {{"cpu", "float64", "7", "3", "1", "1"}, {"cpu", "float32", "5", "2", "4", "3"}}) {
            String line = run(a);
            Matcher m = Pattern.compile("^products backend=cpu precision=" + a[1] + " size=" + a[2] + " batch=" + a[3]
                    + " steps=" + a[4] + " repeats=" + a[5] + " median_s=(\\S+) gflops=(\\S+)$").matcher(line);
            assertTrue(m.matches(), line);
            double seconds = Double.parseDouble(m.group(1));
            double gflops = Double.parseDouble(m.group(2));
            assertTrue(seconds > 0 && gflops > 0, line);
            int h = Integer.parseInt(a[2]);
            int b = Integer.parseInt(a[3]);
            int t = Integer.parseInt(a[4]);
            // 2 (T B 4H H + 2 (T-1) B 4H H + 4H H T B + 4H H (T-1) B) flops
            double flops = 2.0 * 4 * h * h * ((double) t * b * 2 + 3.0 * (t - 1) * b);
            double want = flops / seconds / 1e9;
            assertTrue(Math.abs(gflops - want) <= 0.01 + 1e-3 * want, line + " (want gflops " + want + ")");
        }
    }

    @Test
    void opProfileNamesEveryOperationOfTheIteration() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            OpProfile.main(new String[] {"cpu", "float32", "6", "3", "4", "2"});
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.startsWith("cpu float32 size=6 batch=3 steps=4: "), out);
        // T = 4 steps: 4 cell forwards and backwards, 3 recurrent products each way, the five GEMM shapes
        for (String line : new String[] {"standardLstmCellForward", "standardLstmCellBackward", "sumRows",
            "sgdUpdate", "gemm(12x24x6 tB)", "gemm(3x24x6 tB)", "gemm(3x6x24)", "gemm(24x6x12 tA)",
            "gemm(24x6x9 tA)"}) {
            assertTrue(out.contains("\n" + line + " "), line + " missing from:\n" + out);
        }
        assertTrue(out.matches("(?s).*\\nstandardLstmCellForward +\\S+ ms/iter +4 calls/iter\\n.*"), out);
        assertTrue(out.matches("(?s).*\\ngemm\\(3x24x6 tB\\) +\\S+ ms/iter +3 calls/iter\\n.*"), out);
    }
}
