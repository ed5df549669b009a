package org.rnn4j.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;

/**
 * Run in a child JVM by {@link NativeLibrariesTest}: touches JCuda the way rnn4j does ({@code probe}) or the way JCuda
 * does on its own ({@code jcuda}), then prints every JCuda library file mapped into this process
 * ({@code /proc/self/maps}), one {@code mapped PATH} line each, so the parent can see which file was loaded.
 */
public final class NativeLoadChild {

    private NativeLoadChild() {
    }

    public static void main(String[] args) throws IOException {
        if (args[0].equals("jcuda")) {
            try {
                JCudaDriver.setExceptionsEnabled(true);
            } catch (LinkageError e) {
                System.out.println("driver " + e.getClass().getSimpleName());
            }
            try {
                JCublas2.setExceptionsEnabled(true);
            } catch (LinkageError e) {
                System.out.println("cublas " + e.getClass().getSimpleName());
            }
        } else {
            // The full probe, as CudaProbe.get() runs it wherever libcuda.so.1 may be present (on a machine without
            // a driver get() answers without touching JCuda, and this test is about what the probe loads).
            CudaProbe.Result r = CudaProbe.probe(NativeLibraries.directory(), null, null);
            System.out.println("reason " + r.reason());
            System.out.println("cublas " + CudaProbe.cublasProblem());
        }
        Set<String> mapped = new LinkedHashSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int at = line.indexOf('/');
            if (at >= 0 && (line.contains("libJCuda") || line.contains("libJCublas"))) {
                mapped.add(line.substring(at).trim());
            }
        }
        for (String m : mapped) {
            System.out.println("mapped " + m);
        }
    }
}
