package org.rnn4j.nn;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * The program of README.md's {@code ## Use from Java} section: found, compiled against the running test's class path
 * and run in a child JVM. Public so that the CUDA module's tests run it with the CUDA backend on the class path.
 */
public final class ReadmeProgram {

    /** The section's heading. */
    public static final String SECTION = "## Use from Java";

    private ReadmeProgram() {
    }

    /** What the program did: its exit status (-1 when killed at the timeout), its output, and the losses it printed. */
    public record Run(int exitStatus, String printed, List<Double> losses) {
    }

    /** The repository root: up from the working directory to the first folder with README.md and pom.xml. */
    public static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no folder with README.md and pom.xml above " + Path.of("").toAbsolutePath());
    }

    /** README.md's text. */
    public static String readme() throws IOException {
        return Files.readString(repositoryRoot().resolve("README.md"), StandardCharsets.UTF_8);
    }

    /** The section's text, from its heading to the next {@code ## } heading. */
    public static String section(String readme) {
        int start = readme.indexOf("\n" + SECTION + "\n");
        if (start < 0) {
            throw new AssertionError("README.md has no line '" + SECTION + "'");
        }
        int end = readme.indexOf("\n## ", start + 1);
        return readme.substring(start, end < 0 ? readme.length() : end);
    }

    /** The section's one {@code java} block. */
    public static String source() throws IOException {
        Matcher block = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(section(readme()));
        if (!block.find()) {
            throw new AssertionError("the section '" + SECTION + "' has no ```java block");
        }
        String source = block.group(1);
        if (block.find()) {
            throw new AssertionError("the section '" + SECTION + "' has more than one ```java block");
        }
        return source;
    }

    /**
     * Compiles the program into {@code dir} (with {@code -Xlint:all -Werror}) and runs it.
     *
     * @param dir            an empty folder
     * @param timeoutSeconds how long it may run
     * @return what it did
     */
    public static Run compileAndRun(Path dir, long timeoutSeconds) throws IOException, InterruptedException {
        String source = source();
        Matcher cls = Pattern.compile("public\\s+class\\s+(\\w+)").matcher(source);
        if (!cls.find()) {
            throw new AssertionError("the program declares no public class");
        }
        String name = cls.group(1);
        Path file = dir.resolve(name + ".java");
        Files.writeString(file, source, StandardCharsets.UTF_8);
        String classPath = System.getProperty("java.class.path");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) {
            throw new AssertionError("no system Java compiler: run the tests on a JDK");
        }
        StringWriter diagnostics = new StringWriter();
        boolean compiled = javac.getTask(new PrintWriter(diagnostics), null, null,
                List.of("-classpath", classPath, "-d", dir.toString(), "-Xlint:all", "-Werror"), null,
                javac.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(file.toFile()))
                .call();
        if (!compiled) {
            throw new AssertionError("the README's program does not compile:\n" + diagnostics);
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", dir + File.pathSeparator + classPath, name)
                .redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
            } catch (IOException ignored) {
                // the process was killed
            }
        });
        reader.start();
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly().waitFor();
        }
        reader.join();
        String printed = out.toString(StandardCharsets.UTF_8);
        Matcher losses = Pattern.compile("(?m)^step (\\d+) loss (\\S+)$").matcher(printed);
        List<Double> values = new ArrayList<>();
        while (losses.find()) {
            values.add(Double.parseDouble(losses.group(2)));
        }
        return new Run(done ? p.exitValue() : -1, printed, values);
    }
}
