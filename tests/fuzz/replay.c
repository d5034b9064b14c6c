/*
 * replay.c - run a libFuzzer harness over corpus files without libFuzzer,
 * so `make check` (gcc, ASan or not) replays every saved input.
 *   replay-fuzz-X FILE|DIR...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
run_file(const char *path)
{
	FILE *fp;
	uint8_t *buf = NULL;
	long len;
	int rc = -1;

	if ((fp = fopen(path, "rb")) == NULL)
		goto out;
	if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0)
		goto out;
	/* malloc(0) may return NULL; the harness must see a valid pointer. */
	if ((buf = malloc(len ? (size_t)len : 1)) == NULL)
		goto out;
	if (len && fread(buf, 1, (size_t)len, fp) != (size_t)len)
		goto out;
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "replay: %s: cannot read\n", path);
	free(buf);
	if (fp)
		fclose(fp);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t n = 0;
	int i, bad = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: not found\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i]);
			n++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL)
			return 1;
		while ((de = readdir(d)) != NULL) {
			char path[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
			bad |= run_file(path);
			n++;
		}
		closedir(d);
	}
	printf("fuzz replay %s: %zu inputs\n", argv[0], n);
	return bad ? 1 : 0;
}
