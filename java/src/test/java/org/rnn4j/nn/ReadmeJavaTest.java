package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The program in README.md's {@code ## Use from Java} section compiles against the library and runs: this test takes
 * the section's one {@code java} block, compiles it with {@link ToolProvider#getSystemJavaCompiler()} against this
 * test's class path, runs it in a child JVM, and checks that it printed the device, a first loss, a last loss below
 * half of it, and a prediction. So the README cannot rot.
 */
class ReadmeJavaTest {

    private static final String SECTION = "## Use from Java";
    private static final long TIMEOUT_SECONDS = 300;

    /** The repository root: up from the working directory to the first folder with README.md and pom.xml. */
    static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no folder with README.md and pom.xml above " + Path.of("").toAbsolutePath());
    }

    /** The section's text, from its heading to the next {@code ## } heading. */
    static String section(String readme) {
        int start = readme.indexOf("\n" + SECTION + "\n");
        assertTrue(start >= 0, "README.md has no line '" + SECTION + "'");
        int end = readme.indexOf("\n## ", start + 1);
        return readme.substring(start, end < 0 ? readme.length() : end);
    }

    @Test
    void theSectionComesRightAfterQuickStart() throws IOException {
        String readme = Files.readString(repositoryRoot().resolve("README.md"), StandardCharsets.UTF_8);
        List<String> headings = new ArrayList<>();
        for (String line : readme.split("\n")) {
            if (line.startsWith("## ")) {
                headings.add(line);
            }
        }
        int quick = headings.indexOf("## Quick start");
        assertTrue(quick >= 0, headings.toString());
        assertEquals(SECTION, headings.get(quick + 1), headings.toString());
    }

    @Test
    void theProgramCompilesRunsAndLearns(@TempDir Path dir) throws Exception {
        String text = section(Files.readString(repositoryRoot().resolve("README.md"), StandardCharsets.UTF_8));
        Matcher block = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(text);
        assertTrue(block.find(), "the section has a ```java block");
        String source = block.group(1);
        assertTrue(!block.find(), "the section has exactly one ```java block");
        Matcher cls = Pattern.compile("public\\s+class\\s+(\\w+)").matcher(source);
        assertTrue(cls.find(), "the program declares a public class");
        String name = cls.group(1);
        Path file = dir.resolve(name + ".java");
        Files.writeString(file, source, StandardCharsets.UTF_8);

        String classPath = System.getProperty("java.class.path");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "a JDK's compiler");
        StringWriter diagnostics = new StringWriter();
        boolean compiled = javac.getTask(new PrintWriter(diagnostics), null, null,
                List.of("-classpath", classPath, "-d", dir.toString(), "-Xlint:all", "-Werror"), null,
                javac.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(file.toFile()))
                .call();
        assertTrue(compiled, "the README's program does not compile:\n" + diagnostics);

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
        boolean done = p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly().waitFor();
        }
        reader.join();
        String printed = out.toString(StandardCharsets.UTF_8);
        System.out.println("README program printed:\n" + printed);
        assertTrue(done, "the README's program ran longer than " + TIMEOUT_SECONDS + " s:\n" + printed);
        assertEquals(0, p.exitValue(), printed);

        assertTrue(printed.startsWith("device: "), printed);
        Matcher losses = Pattern.compile("(?m)^step (\\d+) loss (\\S+)$").matcher(printed);
        List<Double> values = new ArrayList<>();
        while (losses.find()) {
            values.add(Double.parseDouble(losses.group(2)));
        }
        assertEquals(2, values.size(), "a loss at the start and at the end:\n" + printed);
        double start = values.get(0);
        double end = values.get(1);
        assertTrue(start > 1, "the first loss is about log(vocab): " + start);
        assertTrue(end < start / 2, "the loss falls below half: " + start + " -> " + end);
        assertTrue(printed.contains("predicted"), printed);
    }
}
