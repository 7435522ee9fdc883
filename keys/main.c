/* placeholder main until upkeep-keys lands */
int main(void)
{
	return 0;
}
