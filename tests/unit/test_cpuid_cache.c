/* Host tests for kernel/cpuid_cache.c: hits, misses, the leaves never remembered, collisions,
 * and that an empty cache answers nothing, whatever the leaf and subleaf. */
#include "tests/unit/test.h"
#include "kernel/cpuid_cache.h"

TEST_MAIN_GLOBALS;

static void fill(struct cpuid_cache *c, uint32_t leaf, uint32_t subleaf)
{
	cpuid_cache_fill(c, leaf, subleaf, leaf ^ 0x11111111u, subleaf ^ 0x22222222u, leaf + subleaf,
			 ~leaf);
}

static void test_empty_answers_nothing(void)
{
	struct cpuid_cache c;

	cpuid_cache_clear(&c);
	/* Every small leaf and subleaf, the keys an empty slot holds among them */
	for (uint32_t leaf = 0; leaf < 64; leaf++)
		for (uint32_t sub = 0; sub < 64; sub++)
			CHECK(cpuid_cache_lookup(&c, leaf, sub) == NULL);
	CHECK(cpuid_cache_lookup(&c, 0x40000000u, 0) == NULL);
	CHECK(cpuid_cache_lookup(&c, 0x80000000u, 0) == NULL);
	CHECK(cpuid_cache_lookup(&c, 0xffffffffu, 0xffffffffu) == NULL);
}

static void test_hit_returns_what_was_filled(void)
{
	struct cpuid_cache c;
	const struct cpuid_cache_entry *e;

	cpuid_cache_clear(&c);
	fill(&c, 0, 0);
	e = cpuid_cache_lookup(&c, 0, 0);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ(e->eax, 0x11111111u);
		CHECK_EQ(e->ebx, 0x22222222u);
		CHECK_EQ(e->ecx, 0);
		CHECK_EQ(e->edx, 0xffffffffu);
	}
	/* Another subleaf of the same leaf is another question */
	CHECK(cpuid_cache_lookup(&c, 0, 1) == NULL);
}

static void test_guest_state_leaves_never_remembered(void)
{
	struct cpuid_cache c;

	cpuid_cache_clear(&c);
	CHECK(!cpuid_cache_cacheable(1));
	CHECK(!cpuid_cache_cacheable(0xd));
	CHECK(cpuid_cache_cacheable(0) && cpuid_cache_cacheable(7) && cpuid_cache_cacheable(0x40000000u));
	fill(&c, 1, 0);
	fill(&c, 0xd, 0);
	fill(&c, 0xd, 1);
	CHECK(cpuid_cache_lookup(&c, 1, 0) == NULL);
	CHECK(cpuid_cache_lookup(&c, 0xd, 0) == NULL);
	CHECK(cpuid_cache_lookup(&c, 0xd, 1) == NULL);
}

static void test_collisions_replace_and_never_confuse(void)
{
	struct cpuid_cache c;
	uint32_t leaves[] = { 0, 2, 4, 7, 0xb, 0x15, 0x16, 0x40000000u, 0x40000001u, 0x80000000u,
			      0x80000001u, 0x80000008u };
	unsigned n = sizeof(leaves) / sizeof(leaves[0]);

	cpuid_cache_clear(&c);
	for (unsigned i = 0; i < n; i++)
		for (uint32_t sub = 0; sub < 3; sub++)
			fill(&c, leaves[i], sub);
	/* Whatever is still there answers its own question and nobody else's */
	for (unsigned i = 0; i < n; i++) {
		for (uint32_t sub = 0; sub < 3; sub++) {
			const struct cpuid_cache_entry *e = cpuid_cache_lookup(&c, leaves[i], sub);

			if (!e)
				continue;
			CHECK_EQ(e->leaf, leaves[i]);
			CHECK_EQ(e->subleaf, sub);
			CHECK_EQ(e->eax, leaves[i] ^ 0x11111111u);
			CHECK_EQ(e->ebx, sub ^ 0x22222222u);
		}
	}
	/* The last filled of colliding keys wins its slot */
	CHECK(cpuid_cache_lookup(&c, 0x80000008u, 2) != NULL);
	/* The basic, hypervisor and extended ranges do not evict each other's first leaves */
	cpuid_cache_clear(&c);
	fill(&c, 0, 0);
	fill(&c, 0x40000000u, 0);
	fill(&c, 0x80000000u, 0);
	CHECK(cpuid_cache_lookup(&c, 0, 0) != NULL);
	CHECK(cpuid_cache_lookup(&c, 0x40000000u, 0) != NULL);
	CHECK(cpuid_cache_lookup(&c, 0x80000000u, 0) != NULL);
}

static void test_clear_forgets(void)
{
	struct cpuid_cache c;

	cpuid_cache_clear(&c);
	for (uint32_t leaf = 0; leaf < 32; leaf++)
		fill(&c, leaf, 0);
	cpuid_cache_clear(&c);
	for (uint32_t leaf = 0; leaf < 32; leaf++)
		CHECK(cpuid_cache_lookup(&c, leaf, 0) == NULL);
}

int main(void)
{
	RUN_TEST(test_empty_answers_nothing);
	RUN_TEST(test_hit_returns_what_was_filled);
	RUN_TEST(test_guest_state_leaves_never_remembered);
	RUN_TEST(test_collisions_replace_and_never_confuse);
	RUN_TEST(test_clear_forgets);
	return test_any_failed;
}
